// Review: branches other than the live one, their validation and per-node plan; merge (admins).

import { useState } from "preact/hooks";

import { ApiError, enc } from "../api";
import { Dialog } from "../components/dialog";
import { Empty, ErrorNote, Loading, Page } from "../components/feedback";
import { PlanView } from "../components/plan";
import { shortRev } from "../model";
import { href, navigate } from "../router";
import { useLoad, useSession } from "../session-context";
import type { Branch, BranchPlan, Committed, Plan, Problem } from "../types";

function branchesOf(answer: unknown): Branch[] {
  const list = Array.isArray(answer)
    ? answer
    : ((answer as { branches?: unknown } | null)?.branches ?? []);
  if (Array.isArray(list)) {
    return list.map((b: unknown) => (typeof b === "string" ? { name: b } : (b as Branch)));
  }
  // {"name": "sha", ...}
  return Object.entries(list as Record<string, string>).map(([name, head]) => ({ name, head }));
}

export function ReviewPage({ branch }: { branch: string | null }) {
  const branches = useLoad("branches", (c) => c.json<unknown>("/branches"));
  if (branches.error instanceof ApiError && branches.error.status === 404) {
    return (
      <Page title="Review">
        <Empty>This server does not offer branch review.</Empty>
      </Page>
    );
  }
  if (branches.error) return <ErrorNote error={branches.error} retry={branches.reload} />;
  if (!branches.data) return <Loading what="branches" />;
  const list = branchesOf(branches.data).filter((b) => b.name !== "main" && b.live !== true);
  return (
    <Page title="Review">
      {list.length === 0 ? (
        <Empty>
          No branch to review. Push one with <code>git push drago HEAD:review/my-change</code>.
        </Empty>
      ) : (
        <ul class="branches">
          {list.map((b) => (
            <li key={b.name}>
              <a href={href("review", b.name)} aria-current={b.name === branch ? "page" : undefined}>
                {b.name}
              </a>{" "}
              <code class="muted">{shortRev(b.head ?? b.revision ?? null)}</code>
            </li>
          ))}
        </ul>
      )}
      {branch && <BranchReview key={branch} name={branch} onMerged={branches.reload} />}
    </Page>
  );
}

function BranchReview({ name, onMerged }: { name: string; onMerged: () => void }) {
  const { canWrite, client } = useSession();
  const plan = useLoad(`branch-plan:${name}`, (c) =>
    c.json<BranchPlan>(`/branches/${enc(name)}/plan`),
  );
  const [confirming, setConfirming] = useState(false);
  const [mergeError, setMergeError] = useState<string | null>(null);

  async function merge() {
    setMergeError(null);
    try {
      const committed = await client.json<Committed>(`/branches/${enc(name)}/merge`, {
        method: "POST",
        body: {},
      });
      setConfirming(false);
      onMerged();
      navigate(href("history", committed.revision));
    } catch (error) {
      setMergeError(error instanceof Error ? error.message : String(error));
    }
  }

  if (plan.error) return <ErrorNote error={plan.error} retry={plan.reload} />;
  if (!plan.data) return <Loading what={`the plan of ${name}`} />;
  const problems = (plan.data.problems ?? []) as Problem[];
  const valid = plan.data.valid ?? problems.length === 0;
  return (
    <section class="card review" data-testid="branch-review">
      <h2>{name}</h2>
      {valid ? (
        <p class="note success">Valid: the branch passes every check.</p>
      ) : (
        <div class="note error">
          <strong>Invalid:</strong>
          <ul>
            {problems.map((p, i) => (
              <li key={i}>
                <code>{p.path}</code>: {p.key && <code>{p.key}</code>} {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <h3>Plan against the live branch</h3>
      <PlanView plan={(plan.data.plan ?? null) as Plan | null} />
      {canWrite && (
        <button type="button" class="primary" disabled={!valid} onClick={() => setConfirming(true)}>
          Merge into the live branch
        </button>
      )}
      <Dialog title={`Merge ${name}`} open={confirming} onClose={() => setConfirming(false)}>
        <p>Merge {name} into the live branch? Agents receive the new configuration at once.</p>
        {mergeError && (
          <p class="note error" role="alert">
            {mergeError}
          </p>
        )}
        <div class="form-actions">
          <button type="button" class="primary" onClick={() => void merge()}>
            Merge
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </section>
  );
}
