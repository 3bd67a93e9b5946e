// Review: branches other than the live one, their validation and per-node plan; merge (admins).

import { useState } from "preact/hooks";

import { enc } from "../api";
import { Dialog } from "../components/dialog";
import { Empty, ErrorNote, Loading, Page } from "../components/feedback";
import { PlanView } from "../components/plan";
import { shortRev } from "../model";
import { href, hrefPath, navigate } from "../router";
import { useLoad, useSession } from "../session-context";
import type { BranchList, MergeOut, ReviewOut } from "../api-types";

function branchUrl(name: string, action: string): string {
  return `/branches/${name.split("/").map(enc).join("/")}/${action}`;
}

export function ReviewPage({ branch }: { branch: string | null }) {
  const branches = useLoad("branches", (c) => c.json<BranchList>("/branches"));
  if (branches.error) return <ErrorNote error={branches.error} retry={branches.reload} />;
  if (!branches.data) return <Loading what="branches" />;
  const list = branches.data.branches.filter((b) => !b.live);
  return (
    <Page title="Review">
      <p class="muted">
        Branches other than <code>{branches.data.live_branch}</code> are never live: check what
        they would change, then merge.
      </p>
      {list.length === 0 ? (
        <Empty>
          No branch to review. Push one with <code>git push drago HEAD:review/my-change</code>.
        </Empty>
      ) : (
        <ul class="branches" data-testid="branches">
          {list.map((b) => (
            <li key={b.name}>
              <a
                href={hrefPath("review", b.name)}
                aria-current={b.name === branch ? "page" : undefined}
              >
                {b.name}
              </a>{" "}
              <code class="muted">{shortRev(b.head)}</code>
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
  const review = useLoad(`review:${name}`, (c) => c.json<ReviewOut>(branchUrl(name, "plan")));
  const [confirming, setConfirming] = useState(false);
  const [mergeError, setMergeError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function merge(head: string) {
    setMergeError(null);
    setBusy(true);
    try {
      // Merge exactly the head that was reviewed: a newer push answers 409.
      const merged = await client.json<MergeOut>(branchUrl(name, "merge"), {
        method: "POST",
        body: { head },
      });
      setConfirming(false);
      onMerged();
      navigate(href("history", merged.revision));
    } catch (error) {
      setMergeError(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  }

  if (review.error) return <ErrorNote error={review.error} retry={review.reload} />;
  if (!review.data) return <Loading what={`the review of ${name}`} />;
  const r = review.data;
  return (
    <section class="card review" data-testid="branch-review">
      <h2>{r.branch}</h2>
      <p class="muted">
        head <code>{shortRev(r.head)}</code> against live <code>{shortRev(r.base)}</code>
        {!r.up_to_date && " · the live branch moved since this branch started"}
      </p>
      {r.valid ? (
        <p class="note success">Valid: the branch passes every check.</p>
      ) : (
        <div class="note error">
          <strong>Invalid:</strong>
          <ul>
            {r.problems.map((p, i) => (
              <li key={i}>
                <code>{p.path}</code>: {p.key && <code>{p.key}</code>} {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <h3>Commits</h3>
      <ul class="changes">
        {r.commits.map((c) => (
          <li key={c.id}>
            <code>{shortRev(c.id)}</code> {c.summary} <span class="muted">— {c.author}</span>{" "}
            {c.signed_by ? (
              <span class="badge sig-verified" title={`signed by ${c.signed_by}`}>
                verified
              </span>
            ) : (
              <span class="badge sig-unsigned" title={c.signature_problem ?? "unsigned"}>
                {c.signature_problem ? "unverified" : "unsigned"}
              </span>
            )}
          </li>
        ))}
      </ul>
      <h3>Plan against the live branch</h3>
      {r.summary && <p>{r.summary}</p>}
      <PlanView
        plan={r.plan}
        loadNode={(node) =>
          client.json<ReviewOut>(`${branchUrl(name, "plan")}?node=${enc(node)}`).then((v) => v.plan)
        }
      />
      {canWrite && (
        <div class="form-actions">
          <button
            type="button"
            class="primary"
            disabled={!r.valid || r.merge === null}
            onClick={() => setConfirming(true)}
          >
            Merge into the live branch
          </button>
          {r.merge && <span class="muted">as a {r.merge}</span>}
        </div>
      )}
      <Dialog title={`Merge ${name}`} open={confirming} onClose={() => setConfirming(false)}>
        <p>
          Merge <b>{name}</b> into the live branch ({r.merge})? Agents receive the new
          configuration at once.
        </p>
        {mergeError && (
          <p class="note error" role="alert">
            Nothing was merged: {mergeError}
          </p>
        )}
        <div class="form-actions">
          <button type="button" class="primary" disabled={busy} onClick={() => void merge(r.head)}>
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
