// A per-node plan: what each affected node will change.
//
// Plans in API answers are summaries: the first affected nodes with their first
// changes, the names of the other affected nodes, and how many changes each listed
// node has beyond those shown. `loadNode` fetches one node's full plan (`?node=`).

import { useState } from "preact/hooks";

import type { NodeDiffOut, PlanOut } from "../api-types";
import { href } from "../router";

type LoadNode = (node: string) => Promise<PlanOut | null>;

export function PlanView({ plan, loadNode }: { plan: PlanOut | null | undefined; loadNode?: LoadNode }) {
  const [full, setFull] = useState<Record<string, NodeDiffOut>>({});
  const [loading, setLoading] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!plan) return <p class="muted">No plan.</p>;

  async function expand(node: string) {
    if (!loadNode) return;
    setLoading(node);
    setError(null);
    try {
      const one = await loadNode(node);
      const found = one?.nodes.find((n) => n.node === node);
      if (found) setFull((known) => ({ ...known, [node]: found }));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoading(null);
    }
  }

  // One node's "load its whole plan" button (listed nodes and the nodes left out).
  function expandButton(node: string, label: string) {
    return (
      <>
        {" "}
        <button type="button" class="link" disabled={loading !== null} onClick={() => expand(node)}>
          {loading === node ? "loading…" : label}
        </button>
      </>
    );
  }

  const listed = plan.nodes.map((n) => full[n.node] ?? n);
  const more = (plan.more_nodes ?? []).filter((n) => !full[n.node]);
  const opened = (plan.more_nodes ?? []).filter((n) => full[n.node]).map((n) => full[n.node]);
  const shown = [...listed, ...opened];
  return (
    <div class="plan">
      {shown.length === 0 && more.length === 0 && (
        <p class="muted">No node's configuration changes.</p>
      )}
      {error && <p class="note error">{error}</p>}
      <ul class="plan-nodes">
        {shown.map((node) => (
          <li key={node.node}>
            <a href={href("nodes", node.node)}>{node.node}</a>{" "}
            <span class={`badge plan-${node.status}`}>{node.status}</span>
            {node.changes.length > 0 && (
              <ul class="plan-changes">
                {node.changes.map((change, i) => (
                  <li key={i}>
                    {change.interface && <span class="muted">{change.interface}: </span>}
                    <code>{change.text}</code>
                  </li>
                ))}
              </ul>
            )}
            {(node.omitted_changes ?? 0) > 0 && (
              <p class="muted plan-more">
                … and {node.omitted_changes} more change{node.omitted_changes === 1 ? "" : "s"}
                {loadNode && expandButton(node.node, "show all")}
              </p>
            )}
          </li>
        ))}
      </ul>
      {more.length > 0 && (
        <div class="plan-more" data-testid="plan-more-nodes">
          <p class="muted">
            {more.length} more affected node{more.length === 1 ? "" : "s"} not shown:
          </p>
          <ul class="plan-nodes">
            {more.map((n) => (
              <li key={n.node}>
                <a href={href("nodes", n.node)}>{n.node}</a>{" "}
                <span class={`badge plan-${n.status}`}>{n.status}</span>
                {loadNode && expandButton(n.node, "show changes")}
              </li>
            ))}
          </ul>
        </div>
      )}
      {plan.unchanged !== undefined && plan.unchanged > 0 && (
        <p class="muted">
          {plan.unchanged} other node{plan.unchanged === 1 ? "" : "s"} unchanged.
        </p>
      )}
    </div>
  );
}
