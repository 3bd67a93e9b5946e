// Sign in with an API token; the token is checked with /whoami before it is kept.

import { useState } from "preact/hooks";

import { ApiError, Client } from "../api";
import type { WhoAmI } from "../api-types";

export function SignIn({
  notice,
  onSignedIn,
}: {
  notice: string | null;
  onSignedIn: (token: string, who: WhoAmI) => void;
}) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const secret = token.trim();
    if (!secret) {
      setError("Paste an API token.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const who = await new Client(secret).json<WhoAmI>("/whoami");
      if (who.role === "node") {
        setError("This is a node token: the web UI needs an admin or reader token.");
        return;
      }
      onSignedIn(secret, who);
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? "The server does not know this token (revoked or mistyped)."
          : caught instanceof Error
            ? caught.message
            : String(caught),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="center">
      <form class="card signin" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">drago</h1>
        <p class="muted">GitOps for WireGuard networks. Sign in with an API token.</p>
        {notice && <p class="note warning">{notice}</p>}
        <label class="field" for="token">
          <span>API token</span>
          <input
            id="token"
            name="token"
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={token}
            aria-invalid={!!error}
            aria-describedby={error ? "token-error" : "token-help"}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </label>
        <small id="token-help" class="muted">
          The first admin token is in <code>DATA/bootstrap-token</code>; create more with{" "}
          <code>drago token create</code>. It is kept for this browser tab only.
        </small>
        {error && (
          <p id="token-error" class="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
