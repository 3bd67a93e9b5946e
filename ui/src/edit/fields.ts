// Form fields of a file, the values they hold, and where a server problem belongs.
//
// A form edits a flat map `field key -> text`; keys are the validator's key paths
// (`interfaces.backbone.address`, `connections[2].between[1]`), so a problem the
// server reports for a key lands next to the field with that key.

import type { ApiError } from "../api";

export type FieldKind = "text" | "number" | "list" | "labels" | "choice";

export interface FieldDef {
  key: string;
  label: string;
  kind: FieldKind;
  help?: string;
  placeholder?: string;
  group?: string;
  /** The values a `choice` field offers. */
  options?: string[];
}

export type Values = Record<string, string>;

export interface FieldProblem {
  key: string;
  message: string;
}

export interface Placed {
  /** Problems by field key. */
  byField: Record<string, string[]>;
  /** Problems no field of the form shows (another file, or a key without a field). */
  general: string[];
}

type Json = unknown;

function segments(key: string): string[] {
  return key.split(/[.[\]]+/).filter(Boolean);
}

/** Read the value at a key path like `interfaces.backbone.address` or `between[1]`. */
export function getAt(data: Json, key: string): Json {
  let current: Json = data;
  for (const part of segments(key)) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, Json>)[part];
  }
  return current;
}

/** Set (or with `undefined`, remove) the value at a key path, creating tables on the way. */
export function setAt(data: Record<string, Json>, key: string, value: Json): void {
  const parts = segments(key);
  let current: Record<string, Json> = data;
  parts.slice(0, -1).forEach((part, i) => {
    const next = current[part];
    if (next === null || typeof next !== "object") {
      current[part] = /^\d+$/.test(parts[i + 1] ?? "") ? [] : {};
    }
    current = current[part] as Record<string, Json>;
  });
  const last = parts[parts.length - 1];
  if (last === undefined) return;
  if (value === undefined) {
    if (Array.isArray(current)) current[Number(last)] = undefined;
    else delete current[last];
  } else {
    current[last] = value;
  }
}

export function toText(kind: FieldKind, value: Json): string {
  if (value === undefined || value === null) return "";
  if (kind === "list" && Array.isArray(value)) return value.join(", ");
  if (kind === "labels" && typeof value === "object") {
    return Object.entries(value as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ");
  }
  return String(value);
}

/** The JSON value of a field's text (`undefined`: leave it out of the file). */
export function fromText(kind: FieldKind, text: string): Json {
  const value = text.trim();
  if (value === "") return undefined;
  switch (kind) {
    case "number":
      // Not a number: send the text so the server's own message explains why.
      return /^-?\d+$/.test(value) ? Number(value) : value;
    case "list":
      return value
        .split(/[,\s]+/)
        .map((item) => item.trim())
        .filter(Boolean);
    case "labels": {
      const labels: Record<string, string> = {};
      for (const term of value.split(/[,\n]+/)) {
        const [k, ...rest] = term.split("=");
        if (k?.trim()) labels[k.trim()] = rest.join("=").trim();
      }
      return labels;
    }
    default:
      return value;
  }
}

export function valuesOf(fields: FieldDef[], data: Json): Values {
  const values: Values = {};
  for (const field of fields) values[field.key] = toText(field.kind, getAt(data, field.key));
  return values;
}

/** `data` with the form's values written over it (fields the form lacks are kept). */
export function applyValues(fields: FieldDef[], data: Json, values: Values): Record<string, Json> {
  const result = structuredClone((data ?? {}) as Record<string, Json>);
  for (const field of fields) {
    setAt(result, field.key, fromText(field.kind, values[field.key] ?? ""));
  }
  return result;
}

/** Keys whose value the user changed from `base`. */
export function changedKeys(base: Values, draft: Values): string[] {
  return Object.keys(draft).filter((key) => (base[key] ?? "") !== (draft[key] ?? ""));
}

/** The user's changes (draft vs. base) replayed onto the latest values. */
export function rebase(base: Values, draft: Values, latest: Values): Values {
  const result = { ...latest };
  for (const key of changedKeys(base, draft)) result[key] = draft[key] ?? "";
  return result;
}

function boundary(rest: string): boolean {
  return rest === "" || rest.startsWith(".") || rest.startsWith("[");
}

/** The field a problem key belongs to: exact, the nearest enclosing field, or a field inside. */
export function fieldFor(keys: string[], problemKey: string): string | undefined {
  if (keys.includes(problemKey)) return problemKey;
  const enclosing = keys
    .filter((k) => problemKey.startsWith(k) && boundary(problemKey.slice(k.length)))
    .sort((a, b) => b.length - a.length)[0];
  if (enclosing) return enclosing;
  return keys.find((k) => k.startsWith(problemKey) && boundary(k.slice(problemKey.length)));
}

/** A key with its first matching alias prefix replaced (`interfaces.lab.address` -> `interface.address`). */
export function unalias(key: string, aliases: Record<string, string>): string {
  for (const [from, to] of Object.entries(aliases)) {
    if (key.startsWith(from) && boundary(key.slice(from.length))) {
      return to + key.slice(from.length);
    }
  }
  return key;
}

/**
 * Place a 422's problems: the ones about `path` next to their fields, the rest in a list.
 * `prefix` is where the form sits in the file (`connections[2].` for one connection);
 * `aliases` map key prefixes of the file to the form's (a form for a new file may hold
 * under a fixed key what the file keeps under a name the user picks).
 */
export function placeProblems(
  error: ApiError,
  path: string,
  keys: string[],
  prefix = "",
  aliases: Record<string, string> = {},
): Placed {
  const placed: Placed = { byField: {}, general: [] };
  const add = (key: string | undefined, message: string, where: string) => {
    const field = key === undefined ? undefined : fieldFor(keys, unalias(key, aliases));
    if (field) (placed.byField[field] ??= []).push(message);
    else placed.general.push(where ? `${where}: ${message}` : message);
  };
  const details = Array.isArray(error.details) ? (error.details as Record<string, unknown>[]) : [];
  for (const d of details) {
    const message = typeof d.message === "string" ? d.message : JSON.stringify(d);
    if (typeof d.key === "string" && typeof d.path === "string") {
      const mine = d.path === path && d.key.startsWith(prefix);
      add(mine ? d.key.slice(prefix.length) : undefined, message, mine ? d.key : `${d.path}: ${d.key}`);
    } else if (typeof d.field === "string") {
      // Shape errors name the request field: `spec.interfaces.x.listen_port`.
      const key = d.field.replace(/^(spec|connection)\./, "");
      add(key, message, key);
    } else {
      placed.general.push(message);
    }
  }
  if (details.length === 0) placed.general.push(error.message);
  return placed;
}
