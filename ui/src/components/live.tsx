// The degraded-state banner: the branch head is not served (it failed validation or
// rendering) and the server still serves an older revision. Shown on every page.

import { ago, shortRev } from "../model";
import { href } from "../router";
import { REFRESH_SECONDS, useInterval, useLoad } from "../session-context";
import type { Live } from "../api-types";

export function LiveBanner() {
  const live = useLoad("live", (c) => c.json<Live>("/live"));
  useInterval(live.reload, REFRESH_SECONDS);
  const problem = live.data?.problem;
  if (live.data?.status !== "degraded" || !problem) return null;
  const details = problemLines(problem.details);
  return (
    <div class="banner degraded" role="alert" data-testid="degraded">
      <p>
        <strong>
          The branch head <a href={href("history", problem.revision)}>{shortRev(problem.revision)}</a>{" "}
          is not served.
        </strong>{" "}
        Still serving{" "}
        {live.data.revision ? (
          <a href={href("history", live.data.revision)}>{shortRev(live.data.revision)}</a>
        ) : (
          "nothing"
        )}{" "}
        ({live.data.nodes} nodes): agents keep that config until a valid commit lands. Push a
        fix or revert the head. <span class="muted">Refused {ago(problem.since)}.</span>
      </p>
      <p class="problem">
        <code>{problem.code}</code> {problem.message}
      </p>
      {details.length > 1 && (
        <ul>
          {details.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Validation problems as `path: key: message` lines (other details are left out). */
function problemLines(details: unknown): string[] {
  if (!Array.isArray(details)) return [];
  return details
    .filter((d): d is Record<string, unknown> => typeof d === "object" && d !== null)
    .filter((d) => typeof d.message === "string")
    .map((d) => [d.path, d.key, d.message].filter((part) => typeof part === "string" && part).join(": "));
}
