// A node: what it should run (rendered config), what it reports, its history; quick edit.

import { useState } from "preact/hooks";

import { enc } from "../api";
import { Empty, ErrorNote, HealthBadge, Loading, Page, SignatureBadge } from "../components/feedback";
import { NodeEditor } from "../edit/editors";
import { ago, firstLine, healthOf, recencyOf, shortRev } from "../model";
import { href } from "../router";
import { useInterval, useLoad, useSession } from "../session-context";
import type { Committed, NodeOut, NodeStatus, RevisionOut } from "../api-types";
import type { NodeConfig } from "../types";
import { Saved } from "./network";

export function NodePage({ name }: { name: string }) {
  const { canWrite } = useSession();
  const node = useLoad(`node:${name}`, (c) => c.json<NodeOut>(`/nodes/${enc(name)}`));
  const status = useLoad(`node-status:${name}`, (c) =>
    c.json<NodeStatus>(`/nodes/${enc(name)}/status`),
  );
  const config = useLoad(`node-config:${name}:${node.data?.config_hash ?? ""}`, (c) =>
    c.json<NodeConfig>(`/nodes/${enc(name)}/config`),
  );
  const history = useLoad(`node-history:${name}:${node.data?.revision ?? ""}`, (c) =>
    c.json<{ revisions: RevisionOut[] }>(`/revisions?node=${enc(name)}&limit=20`),
  );
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState<Committed | null>(null);
  useInterval(status.reload, 10);

  if (node.error) return <ErrorNote error={node.error} retry={node.reload} />;
  if (!node.data) return <Loading what={`node ${name}`} />;
  const n = node.data;
  const s = status.data;
  const labels = Object.entries(n.spec.labels ?? {});
  const troubled = s?.peers.filter((p) => p.problem) ?? [];

  return (
    <Page
      title={
        <>
          <span class="muted">node</span> {n.name} <HealthBadge health={healthOf(s)} />
        </>
      }
      actions={
        canWrite &&
        !editing && (
          <button type="button" onClick={() => setEditing(true)}>
            Edit node
          </button>
        )
      }
    >
      {saved && <Saved committed={saved} />}
      {editing ? (
        <NodeEditor
          item={n}
          onSaved={(committed) => {
            setEditing(false);
            setSaved(committed);
            node.reload();
            status.reload();
          }}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <dl class="facts">
          <dt>description</dt>
          <dd>{n.spec.description ?? "—"}</dd>
          <dt>endpoint</dt>
          <dd>{n.spec.endpoint ? <code>{n.spec.endpoint}</code> : "none (behind NAT)"}</dd>
          <dt>labels</dt>
          <dd>
            {labels.length === 0
              ? "—"
              : labels.map(([k, v]) => (
                  <span key={k} class="tag">
                    {k}={v}
                  </span>
                ))}
          </dd>
          <dt>desired hash</dt>
          <dd>
            <code title={s?.desired_hash ?? ""}>{shortRev(s?.desired_hash ?? n.config_hash)}</code>
          </dd>
          <dt>applied hash</dt>
          <dd>
            <code title={s?.applied_hash ?? ""}>{shortRev(s?.applied_hash)}</code>
            {s && (s.in_sync ? " (in sync)" : " (differs)")}
          </dd>
          <dt>last seen</dt>
          <dd>{ago(s?.last_seen)}</dd>
          {s?.server && (
            <>
              <dt>server</dt>
              <dd>
                <code data-testid="agent-server">{s.server}</code>
              </dd>
            </>
          )}
          <dt>file</dt>
          <dd>
            <code>{n.path}</code> at <code>{shortRev(n.revision)}</code>
          </dd>
        </dl>
      )}
      {s && s.errors.length > 0 && (
        <div class="note error" data-testid="node-errors">
          <strong>The agent reports errors:</strong>
          <ul>
            {s.errors.map((e, i) => (
              <li key={i}>{e}</li>
            ))}
          </ul>
        </div>
      )}
      {troubled.length > 0 && (
        <div class="note error" data-testid="peer-problems">
          <strong>
            The agent applied everything else, but not these peers fully (it keeps retrying
            them):
          </strong>
          <ul>
            {troubled.map((p) => (
              <li key={`${p.network ?? ""}/${p.public_key ?? p.name ?? ""}`}>
                peer {p.name ?? p.public_key}
                {p.network ? ` (${p.network})` : ""}: {p.problem}
              </li>
            ))}
          </ul>
        </div>
      )}

      <h2>Interfaces and peers</h2>
      {config.error && <ErrorNote error={config.error} retry={config.reload} />}
      {!config.data && !config.error && <Loading what="the rendered config" />}
      {config.data && config.data.interfaces.length === 0 && (
        <Empty>This node joins no network.</Empty>
      )}
      {config.data?.interfaces.map((iface) => (
        <InterfaceView key={iface.network} node={n.name} iface={iface} status={s} />
      ))}
      {config.data && (
        <details class="raw">
          <summary>Rendered config (JSON, hash {shortRev(config.data.hash)})</summary>
          <pre tabIndex={0}>{JSON.stringify(config.data, null, 2)}</pre>
        </details>
      )}

      <h2>History</h2>
      {history.data?.revisions.length === 0 && <Empty>No commit touched this node.</Empty>}
      {!history.data && !history.error && <Loading what="history" />}
      {history.data && (
        <ul class="changes" data-testid="node-history">
          {history.data.revisions.map((r) => (
            <li key={r.id}>
              <a href={href("history", r.id)}>
                <code>{shortRev(r.id)}</code>
              </a>{" "}
              {firstLine(r.message)} <SignatureBadge signature={r.signature} />
              <div class="muted">
                {r.author.name}, {ago(r.time)}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}

function InterfaceView({
  node,
  iface,
  status,
}: {
  node: string;
  iface: NodeConfig["interfaces"][number];
  status: NodeStatus | undefined;
}) {
  const { client } = useSession();
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const reported = (peer: string) =>
    status?.peers.find((p) => p.name === peer && (!p.network || p.network === iface.network));
  const handshake = (peer: string) => reported(peer)?.latest_handshake ?? null;

  async function download() {
    setDownloadError(null);
    try {
      const text = await client.text(
        `/nodes/${enc(node)}/config?format=wg-quick&network=${enc(iface.network)}`,
      );
      const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
      const link = document.createElement("a");
      link.href = url;
      link.download = `${node}-${iface.network}.conf`;
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (error) {
      setDownloadError(error instanceof Error ? error.message : String(error));
    }
  }

  return (
    <section class="card interface" data-testid={`interface-${iface.network}`}>
      <header class="interface-head">
        <h3>
          <a href={href("networks", iface.network)}>{iface.network}</a>{" "}
          <span class="muted">
            {iface.ifname} · <code>{iface.address}</code>
            {iface.listen_port !== null && <> · port {iface.listen_port}</>}
            {iface.mtu !== null && <> · MTU {iface.mtu}</>}
          </span>
        </h3>
        <button type="button" onClick={() => void download()}>
          Download wg-quick
        </button>
      </header>
      {downloadError && <p class="note error">{downloadError}</p>}
      <p class="muted">
        public key: <code>{iface.public_key ?? "not registered yet"}</code>
      </p>
      {iface.peers.length === 0 ? (
        <Empty>No peers.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="list">
            <thead>
              <tr>
                <th>peer</th>
                <th>endpoint</th>
                <th>allowed IPs</th>
                <th>handshake</th>
              </tr>
            </thead>
            <tbody>
              {iface.peers.map((peer) => {
                const seen = handshake(peer.name);
                return (
                  <tr key={peer.name}>
                    <td>
                      <a href={href("nodes", peer.name)}>{peer.name}</a>
                    </td>
                    <td>
                      {peer.endpoint ? <code>{peer.endpoint}</code> : "—"}
                      {reported(peer.name)?.problem && (
                        <span class="tag" title={reported(peer.name)?.problem ?? ""}>
                          not applied fully
                        </span>
                      )}
                    </td>
                    <td>
                      <code>{peer.allowed_ips.join(", ")}</code>
                    </td>
                    <td>
                      <span class={`recency recency-${recencyOf(seen)}`}>{ago(seen)}</span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {iface.pending_peers.length > 0 && (
        <p class="muted">
          Pending:{" "}
          {iface.pending_peers.map((p) => (
            <span key={p.name} class="tag" title={p.reason}>
              {p.name} ({p.reason})
            </span>
          ))}
        </p>
      )}
    </section>
  );
}
