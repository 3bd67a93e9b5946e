// A network: its settings, members and connections, with quick edits for admins.

import { useState } from "preact/hooks";

import { enc } from "../api";
import { Dialog } from "../components/dialog";
import { Empty, ErrorNote, HealthBadge, Loading, Page } from "../components/feedback";
import { ConnectionEditor, NetworkEditor } from "../edit/editors";
import { healthOf, shortRev } from "../model";
import { href } from "../router";
import { useLoad, useSession } from "../session-context";
import type { Committed, NetworkOut, StatusOverview } from "../api-types";

type Editing = { what: "network" } | { what: "connection"; index: number | null } | null;

export function NetworkPage({ name }: { name: string }) {
  const { canWrite, client } = useSession();
  const network = useLoad(`network:${name}`, (c) => c.json<NetworkOut>(`/networks/${enc(name)}`));
  const status = useLoad("status", (c) => c.json<StatusOverview>("/status"));
  const [editing, setEditing] = useState<Editing>(null);
  const [saved, setSaved] = useState<Committed | null>(null);
  const [removing, setRemoving] = useState<number | null>(null);
  const [removeError, setRemoveError] = useState<string | null>(null);

  if (network.error) return <ErrorNote error={network.error} retry={network.reload} />;
  if (!network.data) return <Loading what={`network ${name}`} />;
  const net = network.data;
  const byNode = new Map((status.data?.nodes ?? []).map((s) => [s.node, s]));
  const done = (committed: Committed) => {
    setEditing(null);
    setSaved(committed);
    network.reload();
  };

  async function remove(index: number) {
    setRemoveError(null);
    try {
      const committed = await client.json<Committed>(
        `/networks/${enc(net.name)}/connections/${index}`,
        {
          method: "DELETE",
          body: { message: `Remove connection ${index} from ${net.name}` },
          ifMatch: net.revision,
        },
      );
      setRemoving(null);
      done(committed);
    } catch (error) {
      setRemoveError(error instanceof Error ? error.message : String(error));
    }
  }

  return (
    <Page
      title={
        <>
          <span class="muted">network</span> {net.name}
        </>
      }
      actions={
        <>
          <a class="button" href={href("networks", net.name, "topology")}>
            Topology
          </a>
          {canWrite && editing === null && (
            <button type="button" onClick={() => setEditing({ what: "network" })}>
              Edit network
            </button>
          )}
        </>
      }
    >
      {saved && <Saved committed={saved} />}
      {editing?.what === "network" ? (
        <NetworkEditor item={net} onSaved={done} onCancel={() => setEditing(null)} />
      ) : (
        <dl class="facts">
          <dt>description</dt>
          <dd>{net.spec.description ?? "—"}</dd>
          <dt>address range</dt>
          <dd>
            <code>{net.spec.address_range}</code>
          </dd>
          <dt>listen port</dt>
          <dd>{net.spec.listen_port ?? "—"}</dd>
          <dt>keepalive</dt>
          <dd>{net.spec.persistent_keepalive ?? "—"}</dd>
          <dt>MTU</dt>
          <dd>{net.spec.mtu ?? "—"}</dd>
          <dt>file</dt>
          <dd>
            <code>{net.path}</code> at <code>{shortRev(net.revision)}</code>
          </dd>
        </dl>
      )}

      <h2>Connections</h2>
      {(net.spec.connections ?? []).length === 0 && (
        <Empty>No connections: no member peers with another yet.</Empty>
      )}
      <ol class="connections" start={0}>
        {(net.spec.connections ?? []).map((conn, index) => (
          <li key={index} data-testid={`connection-${index}`}>
            {editing?.what === "connection" && editing.index === index ? (
              <ConnectionEditor
                network={net}
                index={index}
                onSaved={done}
                onCancel={() => setEditing(null)}
              />
            ) : (
              <div class="connection">
                <code>{conn.between[0]}</code> <span aria-label="with">↔</span>{" "}
                <code>{conn.between[1]}</code>
                {conn.description && <span class="muted"> — {conn.description}</span>}
                {conn.persistent_keepalive !== undefined && (
                  <span class="muted"> (keepalive {conn.persistent_keepalive} s)</span>
                )}
                {canWrite && editing === null && (
                  <span class="row-actions">
                    <button type="button" onClick={() => setEditing({ what: "connection", index })}>
                      Edit
                    </button>
                    <button type="button" class="danger" onClick={() => setRemoving(index)}>
                      Remove
                    </button>
                  </span>
                )}
              </div>
            )}
          </li>
        ))}
      </ol>
      {canWrite &&
        (editing?.what === "connection" && editing.index === null ? (
          <ConnectionEditor
            network={net}
            index={null}
            onSaved={done}
            onCancel={() => setEditing(null)}
          />
        ) : (
          editing === null && (
            <button type="button" onClick={() => setEditing({ what: "connection", index: null })}>
              Add connection
            </button>
          )
        ))}

      <h2>Members</h2>
      {net.members.length === 0 ? (
        <Empty>No node has an interface in this network.</Empty>
      ) : (
        <ul class="members">
          {net.members.map((member) => (
            <li key={member}>
              <a href={href("nodes", member)}>{member}</a>{" "}
              <HealthBadge health={healthOf(byNode.get(member))} />
            </li>
          ))}
        </ul>
      )}

      <Dialog
        title="Remove connection"
        open={removing !== null}
        onClose={() => {
          setRemoving(null);
          setRemoveError(null);
        }}
      >
        <p>
          Remove connection {removing} of <b>{net.name}</b>? This commits the change; the nodes it
          joined stop peering.
        </p>
        {removeError && <p class="note error">{removeError}</p>}
        <div class="form-actions">
          <button type="button" class="danger" onClick={() => removing !== null && void remove(removing)}>
            Remove and commit
          </button>
          <button type="button" onClick={() => setRemoving(null)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </Page>
  );
}

export function Saved({ committed }: { committed: Committed }) {
  return (
    <p class="note success" role="status">
      {committed.committed ? (
        <>
          Committed <a href={href("history", committed.revision)}>{shortRev(committed.revision)}</a>
          {committed.paths.length > 0 && <> ({committed.paths.join(", ")})</>}.
        </>
      ) : (
        "Nothing changed: no commit."
      )}
    </p>
  );
}
