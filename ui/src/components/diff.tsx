// A unified diff, one line per row, coloured by kind.

import type { FileDiff } from "../api-types";

function kind(line: string): string {
  if (line.startsWith("+++") || line.startsWith("---")) return "meta";
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  return "ctx";
}

export function Diff({ file }: { file: FileDiff }) {
  const lines = file.diff.replace(/\n$/, "").split("\n");
  return (
    <figure class="diff">
      <figcaption>
        <code>{file.path}</code> <span class={`badge file-${file.status}`}>{file.status}</span>
      </figcaption>
      <pre tabIndex={0} aria-label={`diff of ${file.path}`}>
        {lines.map((line, i) => (
          <span key={i} class={`dl dl-${kind(line)}`}>
            {line + "\n"}
          </span>
        ))}
      </pre>
    </figure>
  );
}
