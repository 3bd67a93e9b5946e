// History: every commit of the live branch, newest first, with author and signature.

import { useState } from "preact/hooks";

import { Empty, ErrorNote, Loading, Page, SignatureBadge } from "../components/feedback";
import { ago, dateTime, firstLine, shortRev } from "../model";
import { href } from "../router";
import { useLoad, useSession } from "../session-context";
import type { RevisionOut } from "../api-types";

const PAGE = 50;

export function HistoryPage() {
  const { client } = useSession();
  const first = useLoad("history", (c) => c.json<{ revisions: RevisionOut[] }>(`/revisions?limit=${PAGE}`));
  const [more, setMore] = useState<RevisionOut[]>([]);
  const [end, setEnd] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);

  if (first.error) return <ErrorNote error={first.error} retry={first.reload} />;
  if (!first.data) return <Loading what="history" />;
  const revisions = [...first.data.revisions, ...more];

  async function loadMore() {
    const last = revisions[revisions.length - 1];
    if (!last) return;
    setLoadingMore(true);
    try {
      const next = await client.json<{ revisions: RevisionOut[] }>(
        `/revisions?limit=${PAGE}&before=${last.id}`,
      );
      setMore([...more, ...next.revisions]);
      if (next.revisions.length < PAGE) setEnd(true);
    } finally {
      setLoadingMore(false);
    }
  }

  return (
    <Page title="History">
      {revisions.length === 0 && <Empty>No commits yet.</Empty>}
      <ol class="history" data-testid="history">
        {revisions.map((r) => (
          <li key={r.id}>
            <a href={href("history", r.id)} class="subject">
              {firstLine(r.message) || "(no message)"}
            </a>
            <div class="meta">
              <code>{shortRev(r.id)}</code> · {r.author.name} &lt;{r.author.email}&gt; ·{" "}
              <time dateTime={new Date(r.time * 1000).toISOString()} title={dateTime(r.time)}>
                {ago(r.time)}
              </time>{" "}
              · <SignatureBadge signature={r.signature} />
            </div>
            <div class="muted paths">{r.paths.join(", ")}</div>
          </li>
        ))}
      </ol>
      {revisions.length >= PAGE && !end && (
        <button type="button" disabled={loadingMore} onClick={() => void loadMore()}>
          {loadingMore ? "Loading…" : "Older commits"}
        </button>
      )}
    </Page>
  );
}
