// What the UI derives from API answers: node health, handshake recency, topology edges.

import type { NetworkOut, NodeStatus } from "./api-types";

/** A node that has not reported for this long counts as offline. */
export const OFFLINE_AFTER_S = 5 * 60;
/** A handshake younger than this is fresh (WireGuard re-handshakes every two minutes). */
export const FRESH_HANDSHAKE_S = 3 * 60;
/** A handshake older than this is old (the tunnel is likely down). */
export const STALE_HANDSHAKE_S = 15 * 60;

export type Health = "in-sync" | "pending" | "error" | "offline";

export const HEALTH_LABEL: Record<Health, string> = {
  "in-sync": "in sync",
  pending: "pending",
  error: "error",
  offline: "offline",
};

export function now(): number {
  return Date.now() / 1000;
}

export function healthOf(status: NodeStatus | undefined, at: number = now()): Health {
  if (!status) return "offline";
  if (status.errors.length > 0) return "error";
  if (status.last_seen === null || at - status.last_seen > OFFLINE_AFTER_S) return "offline";
  return status.in_sync ? "in-sync" : "pending";
}

export type Counts = Record<Health, number>;

export function countHealth(statuses: (NodeStatus | undefined)[], at: number = now()): Counts {
  const counts: Counts = { "in-sync": 0, pending: 0, error: 0, offline: 0 };
  for (const status of statuses) counts[healthOf(status, at)] += 1;
  return counts;
}

export type Recency = "fresh" | "stale" | "old" | "none";

export function recencyOf(handshake: number | null | undefined, at: number = now()): Recency {
  if (!handshake) return "none";
  const age = at - handshake;
  if (age <= FRESH_HANDSHAKE_S) return "fresh";
  if (age <= STALE_HANDSHAKE_S) return "stale";
  return "old";
}

export interface Edge {
  a: string;
  b: string;
}

/** The peer pairs of a network as the server resolved them (its `links`). */
export function edgesOf(network: NetworkOut): Edge[] {
  return (network.links ?? []).map(([a, b]) => ({ a, b }));
}

/** The latest handshake either end reports for the pair (null when none). */
export function pairHandshake(
  a: string,
  b: string,
  network: string,
  statuses: Map<string, NodeStatus>,
): number | null {
  let latest: number | null = null;
  for (const [self, other] of [
    [a, b],
    [b, a],
  ] as const) {
    for (const peer of statuses.get(self)?.peers ?? []) {
      if (peer.name !== other) continue;
      if (peer.network && peer.network !== network) continue;
      const seen = peer.latest_handshake ?? null;
      if (seen !== null && (latest === null || seen > latest)) latest = seen;
    }
  }
  return latest;
}

export function shortRev(rev: string | null | undefined): string {
  return rev ? rev.slice(0, 12) : "none";
}

export function ago(unix: number | null | undefined, at: number = now()): string {
  if (!unix) return "never";
  const s = Math.max(0, Math.round(at - unix));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function dateTime(unix: number): string {
  return new Date(unix * 1000).toLocaleString();
}

export function firstLine(message: string): string {
  return message.split("\n", 1)[0] ?? "";
}
