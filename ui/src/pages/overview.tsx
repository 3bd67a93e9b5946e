// Overview: every network and node with its health, the live revision, the latest changes.

import { Empty, ErrorNote, HealthBadge, Loading, Page, SignatureBadge } from "../components/feedback";
import { ago, countHealth, type Counts, firstLine, HEALTH_LABEL, healthOf, shortRev } from "../model";
import { href } from "../router";
import { REFRESH_SECONDS, useInterval, useLoad, useSession } from "../session-context";
import type { NetworkList, NodeList, NodeStatus, RevisionOut, StatusOverview } from "../api-types";

export function Overview() {
  const { canWrite } = useSession();
  const status = useLoad("status", (c) => c.json<StatusOverview>("/status"));
  const files = useLoad("files", async (c) => {
    const [networks, nodes] = await Promise.all([
      c.json<NetworkList>("/networks"),
      c.json<NodeList>("/nodes"),
    ]);
    return { networks: networks.networks, nodes: nodes.nodes };
  });
  const recent = useLoad("recent", (c) =>
    c.json<{ revisions: RevisionOut[] }>("/revisions?limit=6"),
  );
  useInterval(() => {
    status.reload();
    recent.reload();
  }, REFRESH_SECONDS);

  const error = status.error ?? files.error;
  if (error) return <ErrorNote error={error} retry={() => (status.reload(), files.reload())} />;
  if (!status.data || !files.data) return <Loading what="the overview" />;

  const byNode = new Map(status.data.nodes.map((s) => [s.node, s]));
  const all = countHealth(status.data.nodes);
  // The live revision's own commit (not the branch head's, which may be refused).
  const last = recent.data?.revisions.find((r) => r.id === status.data?.revision);
  return (
    <Page
      title="Overview"
      actions={
        canWrite && (
          <>
            <a class="button" href={href("new", "network")}>
              New network
            </a>
            <a class="button" href={href("new", "node")}>
              New node
            </a>
          </>
        )
      }
    >
      <div class="cards">
        <div class="card stat" data-testid="live-revision">
          <span class="muted">live revision</span>
          <a href={status.data.revision ? href("history", status.data.revision) : "/history"}>
            <code>{shortRev(status.data.revision)}</code>
          </a>
          {last && (
            <small class="muted">
              {firstLine(last.message)} — {last.author.name}, {ago(last.time)}
            </small>
          )}
        </div>
        <CountsCard title="nodes" counts={all} total={status.data.total} />
      </div>

      <h2>Networks</h2>
      {files.data.networks.length === 0 ? (
        <Empty>No networks yet. Add a file under <code>networks/</code> and push it.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="list" data-testid="networks">
            <thead>
              <tr>
                <th>network</th>
                <th>range</th>
                <th>nodes</th>
                <th>health</th>
                <th>
                  <span class="sr-only">topology</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {files.data.networks.map((net) => (
                <tr key={net.name}>
                  <td>
                    <a href={href("networks", net.name)}>{net.name}</a>
                    {net.spec.description && <div class="muted">{net.spec.description}</div>}
                  </td>
                  <td>
                    <code>{net.spec.address_range}</code>
                  </td>
                  <td>{net.members.length}</td>
                  <td>
                    <CountsInline
                      counts={countHealth(net.members.map((m) => byNode.get(m)))}
                      compact
                    />
                  </td>
                  <td>
                    <a href={href("networks", net.name, "topology")}>topology</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Nodes</h2>
      {files.data.nodes.length === 0 ? (
        <Empty>No nodes yet. Add a file under <code>nodes/</code> and push it.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="list" data-testid="nodes">
            <thead>
              <tr>
                <th>node</th>
                <th>status</th>
                <th>networks</th>
                <th>last seen</th>
              </tr>
            </thead>
            <tbody>
              {files.data.nodes.map((node) => {
                const s: NodeStatus | undefined = byNode.get(node.name);
                return (
                  <tr key={node.name}>
                    <td>
                      <a href={href("nodes", node.name)}>{node.name}</a>
                      {node.spec.description && <div class="muted">{node.spec.description}</div>}
                    </td>
                    <td>
                      <HealthBadge health={healthOf(s)} />
                    </td>
                    <td>{Object.keys(node.spec.interfaces ?? {}).join(", ")}</td>
                    <td>{ago(s?.last_seen)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      <h2>Latest changes</h2>
      {recent.data && recent.data.revisions.length === 0 && <Empty>No commits yet.</Empty>}
      {recent.data && (
        <ul class="changes">
          {recent.data.revisions.map((r) => (
            <li key={r.id}>
              <a href={href("history", r.id)}>
                <code>{shortRev(r.id)}</code>
              </a>{" "}
              {firstLine(r.message)} <SignatureBadge signature={r.signature} />
              <div class="muted">
                {r.author.name}, {ago(r.time)} · {r.paths.slice(0, 4).join(", ")}
                {r.paths.length > 4 && ` and ${r.paths.length - 4} more`}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}

function CountsCard({ title, counts, total }: { title: string; counts: Counts; total: number }) {
  return (
    <div class="card stat" data-testid="counts">
      <span class="muted">
        {total} {title}
      </span>
      <CountsInline counts={counts} />
    </div>
  );
}

/** Counts per health; `compact` leaves out the zeros (in tables). */
function CountsInline({ counts, compact = false }: { counts: Counts; compact?: boolean }) {
  const shown = (Object.keys(counts) as (keyof Counts)[]).filter((h) => !compact || counts[h] > 0);
  return (
    <span class="counts">
      {shown.map((health) => (
        <span key={health} class={`count health-${health}`} title={HEALTH_LABEL[health]}>
          <b>{counts[health]}</b> {HEALTH_LABEL[health]}
        </span>
      ))}
    </span>
  );
}
