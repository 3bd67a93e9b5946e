// One form for every quick edit: fields, a commit message, problems next to their
// fields (422), and a stale-base conflict (409) that shows what changed and reapplies.

import { useMemo, useState } from "preact/hooks";

import { ApiError } from "../api";
import { firstLine, shortRev } from "../model";
import { useSession } from "../session-context";
import type { Committed, RevisionOut } from "../api-types";
import type { WriteAnswer } from "../types";
import {
  applyValues,
  changedKeys,
  type FieldDef,
  type Placed,
  placeProblems,
  rebase,
  type Values,
  valuesOf,
} from "./fields";

export interface Reread {
  data: unknown;
  revision: string | null;
}

export interface EditFormProps {
  title: string;
  /** The file the form writes; for a new file it depends on what was typed (its name). */
  path: string | ((values: Values) => string);
  prefix?: string;
  /** Key prefixes of the file mapped to the form's (see `placeProblems`). */
  aliases?: (values: Values) => Record<string, string>;
  fields: FieldDef[];
  data: unknown;
  revision: string | null;
  defaultMessage: string;
  submitLabel?: string;
  submit: (
    data: Record<string, unknown>,
    revision: string | null,
    message: string,
  ) => Promise<WriteAnswer>;
  /** The latest version after a stale-base 409 (edits of an existing file). */
  reread?: () => Promise<Reread>;
  /** A 409 means this field's value is taken (a new file's name), not a stale base. */
  conflictField?: string;
  onSaved: (committed: Committed) => void;
  onCancel: () => void;
}

interface Conflict {
  latest: Reread;
  latestValues: Values;
  commits: RevisionOut[];
}

export function EditForm(props: EditFormProps) {
  const { client } = useSession();
  const { fields } = props;
  const keys = useMemo(() => fields.map((f) => f.key), [fields]);
  const [base, setBase] = useState<Reread>({ data: props.data, revision: props.revision });
  const baseValues = useMemo(() => valuesOf(fields, base.data), [fields, base]);
  const [draft, setDraft] = useState<Values>(() => valuesOf(fields, props.data));
  const [message, setMessage] = useState("");
  const [saving, setSaving] = useState(false);
  const [problems, setProblems] = useState<Placed | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const pathOf = (values: Values) =>
    typeof props.path === "string" ? props.path : props.path(values);

  async function save(values: Values, on: Reread) {
    setSaving(true);
    setProblems(null);
    setFailure(null);
    const path = pathOf(values);
    try {
      const answer = await props.submit(
        applyValues(fields, on.data, values),
        on.revision,
        message.trim() || props.defaultMessage,
      );
      props.onSaved(committedOf(answer, on.revision, path));
    } catch (error) {
      if (error instanceof ApiError && error.isConflict && props.conflictField) {
        const taken = `${error.message}: choose another name`;
        setProblems({ byField: { [props.conflictField]: [taken] }, general: [] });
      } else if (error instanceof ApiError && error.isConflict && props.reread) {
        await showConflict(props.reread, path);
      } else if (error instanceof ApiError && (error.status === 422 || error.status === 400)) {
        setProblems(placeProblems(error, path, keys, props.prefix, props.aliases?.(values)));
      } else {
        setFailure(error instanceof Error ? error.message : String(error));
      }
    } finally {
      setSaving(false);
    }
  }

  async function showConflict(reread: () => Promise<Reread>, path: string) {
    const latest = await reread();
    const history = await client
      .json<{ revisions: RevisionOut[] }>(`/revisions?path=${encodeURIComponent(path)}&limit=20`)
      .catch(() => ({ revisions: [] as RevisionOut[] }));
    const cut = history.revisions.findIndex((r) => r.id === base.revision);
    const commits = cut >= 0 ? history.revisions.slice(0, cut) : history.revisions.slice(0, 5);
    setConflict({ latest, latestValues: valuesOf(fields, latest.data), commits });
  }

  async function reapply() {
    if (!conflict) return;
    const next = rebase(baseValues, draft, conflict.latestValues);
    setBase(conflict.latest);
    setDraft(next);
    setConflict(null);
    await save(next, conflict.latest);
  }

  function discard() {
    if (!conflict) return;
    setBase(conflict.latest);
    setDraft(conflict.latestValues);
    setConflict(null);
  }

  const dirty = changedKeys(baseValues, draft).length > 0;
  const groups = [...new Set(fields.map((f) => f.group ?? ""))];

  return (
    <form
      class="edit-form"
      aria-label={props.title}
      onSubmit={(event) => {
        event.preventDefault();
        void save(draft, base);
      }}
    >
      {groups.map((group) => (
        <fieldset key={group} class="fields">
          {group && <legend>{group}</legend>}
          {fields
            .filter((f) => (f.group ?? "") === group)
            .map((field) => (
              <FieldInput
                key={field.key}
                field={field}
                value={draft[field.key] ?? ""}
                errors={problems?.byField[field.key] ?? []}
                onInput={(value) => setDraft({ ...draft, [field.key]: value })}
              />
            ))}
        </fieldset>
      ))}
      <label class="field">
        <span>Commit message</span>
        <input
          name="message"
          value={message}
          placeholder={props.defaultMessage}
          onInput={(e) => setMessage(e.currentTarget.value)}
        />
      </label>
      {problems && problems.general.length > 0 && (
        <div class="note error" role="alert">
          <strong>Nothing was committed:</strong>
          <ul>
            {problems.general.map((p, i) => (
              <li key={i}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      {problems && problems.general.length === 0 && (
        <p class="note error" role="alert">
          Nothing was committed: fix the marked fields.
        </p>
      )}
      {failure && (
        <p class="note error" role="alert">
          Nothing was committed: {failure}
        </p>
      )}
      {conflict && (
        <ConflictNote
          conflict={conflict}
          fields={fields}
          baseValues={baseValues}
          draft={draft}
          onReapply={() => void reapply()}
          onDiscard={discard}
        />
      )}
      <div class="form-actions">
        <button type="submit" class="primary" disabled={saving || !!conflict || !dirty}>
          {saving ? "Committing…" : (props.submitLabel ?? "Commit")}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        {base.revision && <span class="muted">based on {shortRev(base.revision)}</span>}
      </div>
    </form>
  );
}

/** A write's answer as a commit: a file answer at the base revision committed nothing. */
function committedOf(answer: WriteAnswer, base: string | null, path: string): Committed {
  const revision = answer.revision ?? base ?? "";
  const committed = answer.committed ?? revision !== base;
  return { revision, committed, paths: answer.paths ?? (committed ? [path] : []) };
}

function FieldInput({
  field,
  value,
  errors,
  onInput,
}: {
  field: FieldDef;
  value: string;
  errors: string[];
  onInput: (value: string) => void;
}) {
  const id = `f-${field.key.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
  const describedBy = [errors.length ? `${id}-error` : "", field.help ? `${id}-help` : ""]
    .filter(Boolean)
    .join(" ");
  return (
    <div class={`field${errors.length ? " invalid" : ""}`} data-key={field.key}>
      <label for={id}>{field.label}</label>
      {field.kind === "choice" ? (
        <select
          id={id}
          name={field.key}
          value={value}
          aria-invalid={errors.length > 0}
          aria-describedby={describedBy || undefined}
          onChange={(e) => onInput(e.currentTarget.value)}
        >
          {(field.options ?? []).map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          name={field.key}
          value={value}
          inputMode={field.kind === "number" ? "numeric" : undefined}
          placeholder={field.placeholder}
          aria-invalid={errors.length > 0}
          aria-describedby={describedBy || undefined}
          onInput={(e) => onInput(e.currentTarget.value)}
        />
      )}
      {field.help && (
        <small id={`${id}-help`} class="muted">
          {field.help}
        </small>
      )}
      {errors.length > 0 && (
        <p id={`${id}-error`} class="field-error">
          {errors.join("; ")}
        </p>
      )}
    </div>
  );
}

function ConflictNote({
  conflict,
  fields,
  baseValues,
  draft,
  onReapply,
  onDiscard,
}: {
  conflict: Conflict;
  fields: FieldDef[];
  baseValues: Values;
  draft: Values;
  onReapply: () => void;
  onDiscard: () => void;
}) {
  const theirs = changedKeys(baseValues, conflict.latestValues);
  const mine = changedKeys(baseValues, draft);
  const label = (key: string) => {
    const field = fields.find((f) => f.key === key);
    return field ? `${field.group ? field.group + " " : ""}${field.label}` : key;
  };
  return (
    <div class="note warning conflict" role="alert">
      <strong>Someone changed this since you opened it.</strong> Nothing was committed.
      {conflict.commits.length > 0 && (
        <ul>
          {conflict.commits.map((c) => (
            <li key={c.id}>
              <code>{shortRev(c.id)}</code> {firstLine(c.message)} — {c.author.name}
            </li>
          ))}
        </ul>
      )}
      {theirs.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>field</th>
              <th>you started from</th>
              <th>now</th>
              <th>yours</th>
            </tr>
          </thead>
          <tbody>
            {theirs.map((key) => (
              <tr key={key} class={mine.includes(key) ? "clash" : ""}>
                <td>{label(key)}</td>
                <td>
                  <code>{baseValues[key] || "—"}</code>
                </td>
                <td>
                  <code>{conflict.latestValues[key] || "—"}</code>
                </td>
                <td>
                  <code>{draft[key] || "—"}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>None of the fields on this form changed; other parts of the repository did.</p>
      )}
      <div class="form-actions">
        <button type="button" class="primary" onClick={onReapply}>
          Reapply my changes and commit
        </button>
        <button type="button" onClick={onDiscard}>
          Start over from the latest
        </button>
      </div>
    </div>
  );
}
