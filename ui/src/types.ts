// Shapes of the drago REST API (/api/v1) that the UI reads and writes.

export type Role = "admin" | "reader" | "node";

export interface WhoAmI {
  token_id: string;
  name: string;
  email: string;
  role: Role;
  node: string | null;
}

export interface ConnectionSpec {
  between: [string, string] | string[];
  description?: string;
  persistent_keepalive?: number;
  allowed_ips?: Record<string, string[]>;
}

export interface NetworkSpec {
  description?: string;
  address_range: string;
  listen_port?: number;
  persistent_keepalive?: number;
  mtu?: number;
  dns?: string[];
  connections?: ConnectionSpec[];
}

export interface InterfaceSpec {
  address: string;
  listen_port?: number;
  endpoint_port?: number;
  ifname?: string;
  mtu?: number;
  dns?: string[];
  persistent_keepalive?: number;
  routes?: string[];
}

export interface NodeSpec {
  description?: string;
  endpoint?: string;
  labels?: Record<string, string>;
  interfaces?: Record<string, InterfaceSpec>;
}

export interface FileOut {
  name: string;
  path: string;
  revision: string | null;
  toml: string;
}

export interface NetworkOut extends FileOut {
  spec: NetworkSpec;
  members: string[];
  /** The pairs of members that peer, resolved by the server: [a, b] with a < b, sorted. */
  /** Null in the network list: read one network for its links. */
  links: [string, string][] | null;
}

export interface NodeOut extends FileOut {
  spec: NodeSpec;
  keys: Record<string, string>;
  config_hash: string | null;
}

export interface NetworkList {
  revision: string | null;
  networks: NetworkOut[];
}

export interface NodeList {
  revision: string | null;
  nodes: NodeOut[];
}

export interface Committed {
  revision: string;
  committed: boolean;
  paths: string[];
}

/** What a write answers: `Committed`, or the written file (`NodeOut`, `NetworkOut`). */
export interface WriteAnswer {
  revision: string | null;
  committed?: boolean;
  paths?: string[];
}

export interface PeerStatus {
  name?: string;
  public_key?: string;
  interface?: string;
  network?: string;
  endpoint?: string | null;
  latest_handshake?: number | null;
  rx_bytes?: number;
  tx_bytes?: number;
  /** Why the agent could not apply this peer fully (e.g. "endpoint unresolved: ..."). */
  problem?: string | null;
}

export interface NodeStatus {
  node: string;
  desired_hash: string | null;
  applied_hash: string | null;
  applied_revision: string | null;
  in_sync: boolean;
  last_seen: number | null;
  errors: string[];
  peers: PeerStatus[];
}

export interface StatusOverview {
  revision: string | null;
  nodes: NodeStatus[];
  in_sync: number;
  total: number;
}

export interface Person {
  name: string;
  email: string;
}

export type Signature = "server" | "verified" | "unverified" | "signed" | "unsigned";

export interface Revision {
  id: string;
  parents: string[];
  author: Person;
  committer: Person;
  time: number;
  message: string;
  paths: string[];
  signature: Signature | string;
}

export interface FileDiff {
  path: string;
  status: string;
  diff: string;
}

export interface PlanChange {
  text: string;
  interface?: string;
  kind?: string;
  subject?: string;
}

export interface NodePlan {
  node: string;
  status: string;
  changes: PlanChange[];
  /** Changes of this node left out of a summary (ask with `?node=`). */
  omitted_changes?: number;
}

export interface Plan {
  nodes: NodePlan[];
  unchanged?: number;
  /** Affected nodes a summary does not list, with their status. */
  more_nodes?: { node: string; status: string }[];
  omitted_nodes?: number;
  counts?: Record<string, number>;
  complete?: boolean;
}

export interface RevisionDetail extends Revision {
  files: FileDiff[];
  plan: Plan;
}

export interface Problem {
  path: string;
  key: string;
  message: string;
}

export interface Peer {
  name: string;
  public_key: string;
  endpoint: string | null;
  allowed_ips: string[];
  persistent_keepalive: number | null;
}

export interface RenderedInterface {
  network: string;
  ifname: string;
  address: string;
  listen_port: number | null;
  mtu: number | null;
  dns: string[];
  public_key: string | null;
  peers: Peer[];
  pending_peers: { name: string; reason: string }[];
}

export interface NodeConfig {
  node: string;
  hash: string;
  revision: string;
  interfaces: RenderedInterface[];
}

export interface TokenView {
  id: string;
  role: Role;
  node: string | null;
  name: string;
  email: string;
  created_at: number;
}

export interface TokenCreated {
  token: TokenView;
  secret: string;
}

export interface Branch {
  name: string;
  head: string;
  live: boolean;
}

export interface BranchList {
  live_branch: string;
  branches: Branch[];
}

export interface BranchCommit {
  id: string;
  summary: string;
  author: string;
  signed_by: string | null;
  signature_problem: string | null;
}

export interface Review {
  branch: string;
  head: string;
  base: string | null;
  valid: boolean;
  problems: Problem[];
  commits: BranchCommit[];
  up_to_date: boolean;
  merge: "fast-forward" | "squash" | null;
  plan: Plan | null;
  summary: string | null;
  markdown: string | null;
}

export interface Merged {
  mode: "fast-forward" | "squash";
  revision: string;
  commits: string[];
}

/** Why the branch head is not served (`GET /live`). */
export interface LiveProblem {
  revision: string;
  code: string;
  message: string;
  details: unknown;
  since: number;
}

export interface Live {
  status: "ok" | "degraded";
  revision: string | null;
  nodes: number;
  problem: LiveProblem | null;
}
