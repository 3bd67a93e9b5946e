// One commit: author, signature, per-file diffs, per-node plan; revert for admins.

import { useState } from "preact/hooks";

import { enc } from "../api";
import { Dialog } from "../components/dialog";
import { Diff } from "../components/diff";
import { ErrorNote, Loading, Page, SignatureBadge } from "../components/feedback";
import { PlanView } from "../components/plan";
import { dateTime, firstLine, shortRev } from "../model";
import { href, navigate } from "../router";
import { useLoad, useSession } from "../session-context";
import type { Committed, RevisionDetail } from "../api-types";

export function RevisionPage({ rev }: { rev: string }) {
  const { canWrite, client } = useSession();
  const detail = useLoad(`revision:${rev}`, (c) => c.json<RevisionDetail>(`/revisions/${enc(rev)}`));
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [revertError, setRevertError] = useState<string | null>(null);

  if (detail.error) return <ErrorNote error={detail.error} retry={detail.reload} />;
  if (!detail.data) return <Loading what={`revision ${shortRev(rev)}`} />;
  const r = detail.data;

  async function revert() {
    setBusy(true);
    setRevertError(null);
    try {
      const committed = await client.json<Committed>(`/revisions/${enc(r.id)}/revert`, {
        method: "POST",
        body: { message: `Revert "${firstLine(r.message)}"\n\nThis reverts commit ${r.id}.` },
      });
      setConfirming(false);
      navigate(href("history", committed.revision));
    } catch (error) {
      setRevertError(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page
      title={firstLine(r.message) || "(no message)"}
      actions={
        canWrite && (
          <button type="button" class="danger" onClick={() => setConfirming(true)}>
            Revert
          </button>
        )
      }
    >
      <dl class="facts">
        <dt>commit</dt>
        <dd>
          <code>{r.id}</code>
        </dd>
        <dt>author</dt>
        <dd>
          {r.author.name} &lt;{r.author.email}&gt;
        </dd>
        <dt>time</dt>
        <dd>{dateTime(r.time)}</dd>
        <dt>signature</dt>
        <dd>
          <SignatureBadge signature={r.signature} />
        </dd>
        {r.parents.length > 0 && (
          <>
            <dt>parent</dt>
            <dd>
              {r.parents.map((p) => (
                <a key={p} href={href("history", p)}>
                  <code>{shortRev(p)}</code>
                </a>
              ))}
            </dd>
          </>
        )}
      </dl>
      {r.message.trim().includes("\n") && <pre class="message">{r.message.trim()}</pre>}

      <h2>Plan per node</h2>
      <PlanView
        plan={r.plan}
        loadNode={(node) =>
          client
            .json<RevisionDetail>(`/revisions/${enc(r.id)}?node=${enc(node)}`)
            .then((d) => d.plan)
        }
      />

      <h2>Files</h2>
      {r.files.map((file) => (
        <Diff key={file.path} file={file} />
      ))}

      <Dialog title="Revert this commit" open={confirming} onClose={() => setConfirming(false)}>
        <p>
          Commit a new change on top of the live branch that undoes <code>{shortRev(r.id)}</code> (
          {r.files.length} file{r.files.length === 1 ? "" : "s"})?
        </p>
        {revertError && (
          <p class="note error" role="alert">
            Nothing was committed: {revertError}
          </p>
        )}
        <div class="form-actions">
          <button type="button" class="danger" disabled={busy} onClick={() => void revert()}>
            {busy ? "Reverting…" : "Revert and commit"}
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </Page>
  );
}
