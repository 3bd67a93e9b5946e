// Tokens (admins): list, create (the secret is shown once), revoke.

import { useState } from "preact/hooks";

import { ApiError, enc } from "../api";
import { Dialog } from "../components/dialog";
import { Empty, ErrorNote, Loading, Page } from "../components/feedback";
import { dateTime } from "../model";
import { useLoad, useSession } from "../session-context";
import type { Role, TokenCreated, TokenView } from "../api-types";

export function TokensPage() {
  const { client, me } = useSession();
  const tokens = useLoad("tokens", (c) => c.json<{ tokens: TokenView[] }>("/tokens"));
  const [created, setCreated] = useState<TokenCreated | null>(null);
  const [revoking, setRevoking] = useState<TokenView | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  if (me.role !== "admin") {
    return (
      <Page title="Tokens">
        <Empty>Only admins manage tokens.</Empty>
      </Page>
    );
  }
  if (tokens.error) return <ErrorNote error={tokens.error} retry={tokens.reload} />;
  if (!tokens.data) return <Loading what="tokens" />;

  async function revoke(token: TokenView) {
    setActionError(null);
    try {
      await client.json<TokenView>(`/tokens/${enc(token.id)}`, { method: "DELETE" });
      setRevoking(null);
      tokens.reload();
    } catch (error) {
      setActionError(error instanceof Error ? error.message : String(error));
    }
  }

  return (
    <Page title="Tokens">
      <CreateToken
        onCreated={(answer) => {
          setCreated(answer);
          tokens.reload();
        }}
      />
      {created && (
        <div class="note success secret" role="status" data-testid="new-secret">
          <p>
            Token <b>{created.token.name}</b> ({created.token.role}) created. Copy the secret now:
            it is not shown again.
          </p>
          <input readOnly value={created.secret} aria-label="new token secret" onFocus={(e) => e.currentTarget.select()} />
          <button type="button" onClick={() => void navigator.clipboard?.writeText(created.secret)}>
            Copy
          </button>
          <button type="button" class="link" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      {tokens.data.tokens.length === 0 ? (
        <Empty>No tokens.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="list" data-testid="tokens">
            <thead>
              <tr>
                <th>name</th>
                <th>role</th>
                <th>id</th>
                <th>created</th>
                <th>
                  <span class="sr-only">actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.tokens.map((t) => (
                <tr key={t.id}>
                  <td>
                    {t.name}
                    <div class="muted">{t.email}</div>
                  </td>
                  <td>
                    <span class={`badge role-${t.role}`}>{t.role}</span>
                    {t.node && <> for {t.node}</>}
                  </td>
                  <td>
                    <code>{t.id}</code>
                  </td>
                  <td>{dateTime(t.created_at)}</td>
                  <td>
                    {t.id === me.token_id ? (
                      <span class="muted">this session</span>
                    ) : (
                      <button type="button" class="danger" onClick={() => setRevoking(t)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog title="Revoke token" open={revoking !== null} onClose={() => setRevoking(null)}>
        <p>
          Revoke <b>{revoking?.name}</b> (<code>{revoking?.id}</code>)? Anything using it stops
          working at once.
        </p>
        {actionError && <p class="note error">{actionError}</p>}
        <div class="form-actions">
          <button type="button" class="danger" onClick={() => revoking && void revoke(revoking)}>
            Revoke
          </button>
          <button type="button" onClick={() => setRevoking(null)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </Page>
  );
}

function CreateToken({ onCreated }: { onCreated: (created: TokenCreated) => void }) {
  const { client } = useSession();
  const [role, setRole] = useState<Role>("reader");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [node, setNode] = useState("");
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, string> = { role };
      if (name.trim()) body.name = name.trim();
      if (email.trim()) body.email = email.trim();
      if (role === "node") body.node = node.trim();
      onCreated(await client.json<TokenCreated>("/tokens", { method: "POST", body }));
      setName("");
      setEmail("");
      setNode("");
    } catch (caught) {
      setError(caught instanceof Error ? caught : new Error(String(caught)));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card inline-form" onSubmit={submit} aria-label="Create a token">
      <label class="field">
        <span>Role</span>
        <select name="role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
          <option value="reader">reader</option>
          <option value="admin">admin</option>
          <option value="node">node</option>
        </select>
      </label>
      <label class="field">
        <span>Name</span>
        <input name="name" value={name} placeholder="who uses it" onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>Email</span>
        <input name="email" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
      </label>
      {role === "node" && (
        <label class="field">
          <span>Node</span>
          <input name="node" value={node} onInput={(e) => setNode(e.currentTarget.value)} />
        </label>
      )}
      <button type="submit" class="primary" disabled={busy}>
        Create token
      </button>
      {error && (
        <p class="field-error" role="alert">
          {error.message}
        </p>
      )}
    </form>
  );
}
