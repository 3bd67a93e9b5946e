// A per-node plan: what each affected node will change.

import type { Plan } from "../types";
import { href } from "../router";

export function PlanView({ plan }: { plan: Plan | null | undefined }) {
  if (!plan) return <p class="muted">No plan.</p>;
  const changed = plan.nodes.filter((n) => n.changes.length > 0 || n.status !== "unchanged");
  return (
    <div class="plan">
      {changed.length === 0 && <p class="muted">No node's configuration changes.</p>}
      <ul class="plan-nodes">
        {changed.map((node) => (
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
          </li>
        ))}
      </ul>
      {plan.unchanged !== undefined && plan.unchanged > 0 && (
        <p class="muted">
          {plan.unchanged} other node{plan.unchanged === 1 ? "" : "s"} unchanged.
        </p>
      )}
    </div>
  );
}
