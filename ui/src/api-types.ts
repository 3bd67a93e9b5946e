// Shapes of the drago REST API (/api/v1), generated from its OpenAPI document by
// `python -m drago.server.api.openapi --typescript > ui/src/api-types.ts`;
// do not edit by hand (a test fails when this file is stale).

/** Where to go from /api/v1: no repository content, so anyone may read it. */
export interface ApiIndex {
  /** always "drago" */
  name: string;
  /** the server's version */
  version: string;
  /** path of the OpenAPI 3.1 document of this API */
  openapi: string;
  /** where the API reference is */
  docs: string;
  /** paths of the other entry points, by name */
  links: Record<string, string>;
}

export interface BranchCommitOut {
  id: string;
  summary: string;
  author: string;
  /** principal of the trusted signer, if any */
  signed_by: string | null;
  signature_problem: string | null;
}

export interface BranchList {
  live_branch: string;
  branches: BranchOut[];
}

export interface BranchOut {
  name: string;
  /** commit the branch points to */
  head: string;
  /** true for the live branch (main) */
  live: boolean;
}

/** Optional body of a delete or a revert: the commit message. */
export interface CommitMessage {
  /** commit message (a default names the file) (<= 10000 chars) */
  message?: string | null;
}

/** The outcome of a write: the revision that holds it. */
export interface Committed {
  /** the branch head after the write */
  revision: string;
  /** false when the write changed nothing (no commit) */
  committed: boolean;
  /** files the commit changed */
  paths: string[];
}

/** One difference in one interface of a node's rendered config. */
export interface ConfigChangeOut {
  /** the network of the interface */
  interface: string;
  kind: "interface_added" | "interface_removed" | "interface_changed" | "peer_added" | "peer_removed" | "peer_changed" | "pending_added" | "pending_removed";
  /** the setting (interface_changed), the peer (peer_*, pending_*) or the network */
  subject: string;
  old: string | number | string[] | Record<string, string | number | string[] | null> | null;
  new: string | number | string[] | Record<string, string | number | string[] | null> | null;
  /** the change in words, e.g. peer b: endpoint x => y */
  text: string;
}

/** The changes from the config with hash ``base`` to the one with ``hash``. */
export interface ConfigDelta {
  /** matching `^(?:[a-z0-9][a-z0-9-]{0,62})$` */
  node: string;
  /** matching `^(?:[0-9a-f]{64})$` */
  base: string;
  /** matching `^(?:[0-9a-f]{64})$` */
  hash: string;
  /** matching `^(?:[0-9A-Za-z][0-9A-Za-z._-]{0,127})$` */
  revision?: string | null;
  interfaces?: InterfaceDelta[];
  remove_interfaces?: string[];
}

export interface ConnectionCommitted {
  /** the branch head after the write */
  revision: string;
  /** false when the write changed nothing (no commit) */
  committed: boolean;
  /** files the commit changed */
  paths: string[];
  index: number;
}

export interface ConnectionList {
  network: string;
  revision: string | null;
  connections: ConnectionOut[];
}

export interface ConnectionOut {
  /** position in the network file's [[connections]] */
  index: number;
  connection: ConnectionSpec;
}

/** Peers every node matched by one end with every node matched by the other. */
export interface ConnectionSpec {
  /** the two ends: node name, '*' or key=value[,...] */
  between: [string, string];
  /** one line of text */
  description?: string | null;
  /** seconds, 0 is off (0..65535) */
  persistent_keepalive?: number | null;
  /** selector -> allowed IPs replacing the defaults for matched peers */
  allowed_ips?: Record<string, string[]> | null;
}

export interface ConnectionWrite {
  /** commit message (a default names the file) (<= 10000 chars) */
  message?: string | null;
  connection: ConnectionSpec;
}

export interface ErrorBody {
  error: ErrorInfo;
}

export interface ErrorInfo {
  code: string;
  message: string;
  details?: unknown;
}

export interface FileDiff {
  path: string;
  /** added | modified | deleted */
  status: string;
  /** unified diff */
  diff: string;
}

/** What anyone may know: no file names, addresses or other repository content. */
export interface Health {
  /** "ok", or "degraded" when the branch head is not served */
  status: "ok" | "degraded";
  /** the live revision */
  revision: string | null;
}

/** What changed in one interface (or all of a new one). */
export interface InterfaceDelta {
  /** matching `^(?:[a-z0-9][a-z0-9-]{0,62})$` */
  network: string;
  set?: InterfaceFields;
  peers?: PeerConfig[];
  remove_peers?: string[];
}

/**
 * The ``set`` of an interface delta: the fields present are the new values
 * (``mtu`` and ``public_key`` may be set to null); absent fields are unchanged.
 */
export interface InterfaceFields {
  /** matching `^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,14})$` */
  ifname?: string | null;
  /** matching `^(?:(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}/(?:3[0-2]|[12]?[0-9])|(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,7}:|(?:[0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,5}(?::[0-9A-Fa-f]{1,4}){1,2}|(?:[0-9A-Fa-f]{1,4}:){1,4}(?::[0-9A-Fa-f]{1,4}){1,3}|(?:[0-9A-Fa-f]{1,4}:){1,3}(?::[0-9A-Fa-f]{1,4}){1,4}|(?:[0-9A-Fa-f]{1,4}:){1,2}(?::[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(?::[0-9A-Fa-f]{1,4}){1,6}|:(?:(?::[0-9A-Fa-f]{1,4}){1,7}|:)|(?:[0-9A-Fa-f]{1,4}:){6}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){1,5}:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){1,4}:(?:[0-9A-Fa-f]{1,4}:){1}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){1,3}:(?:[0-9A-Fa-f]{1,4}:){1,2}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){1,2}:(?:[0-9A-Fa-f]{1,4}:){1,3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){1,4}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::(?:[0-9A-Fa-f]{1,4}:){0,5}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3})/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9])))$` */
  address?: string | null;
  /** 1..65535 */
  listen_port?: number | null;
  /** 576..65535 */
  mtu?: number | null;
  dns?: string[] | null;
  /** matching `^(?:[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)$` */
  public_key?: string | null;
  pending_peers?: PendingPeer[] | null;
}

/** ``[interfaces.<network>]`` in a node file: the node's membership in a network. */
export interface InterfaceSpec {
  /** address with prefix, like 10.20.0.1/16 */
  address: string;
  /** 1..65535 */
  listen_port?: number | null;
  /** port peers connect to when it differs from listen_port (NAT port forward) (1..65535) */
  endpoint_port?: number | null;
  /** interface name (1-15 of A-Z a-z 0-9 _ . -) */
  ifname?: string | null;
  /** 576..65535 */
  mtu?: number | null;
  /** IP address */
  dns?: string[] | null;
  /** keepalive this node sends to all its peers (for nodes behind NAT) (0..65535) */
  persistent_keepalive?: number | null;
  /** subnets this node serves into the overlay */
  routes?: string[] | null;
}

export interface KeyWrite {
  /** commit message (a default names the file) (<= 10000 chars) */
  message?: string | null;
  /** the interface's WireGuard public key (32 bytes, base64) */
  public_key: string;
}

export interface KeysOut {
  node: string;
  revision: string | null;
  path: string;
  /** network -> public key */
  keys: Record<string, string>;
}

export interface Live {
  /** "ok", or "degraded" when the branch head is not served */
  status: "ok" | "degraded";
  /** the live revision */
  revision: string | null;
  /** nodes at the live revision */
  nodes: number;
  /** why the branch head is not live */
  problem: LiveProblem | null;
}

/** Why the branch head is not served: the error that refused it. */
export interface LiveProblem {
  /** the refused branch head */
  revision: string;
  code: string;
  message: string;
  /** as in an error answer (problems: path, key, message) */
  details: unknown;
  /** unix time the head was refused */
  since: number;
}

export interface MergeOut {
  mode: "fast-forward" | "squash";
  /** the live branch head after the merge */
  revision: string;
  /** the branch's commits that were merged */
  commits: string[];
}

/** Optional body of a merge (an empty body merges the branch's current head). */
export interface MergeRequest {
  /** merge only if the branch still points at this commit (the one reviewed) (matching `^[0-9a-f]{40}$`) */
  head?: string | null;
}

export interface NetworkCreate {
  /** commit message (a default names the file) (<= 10000 chars) */
  message?: string | null;
  /** the whole file as TOML text */
  toml?: string | null;
  spec?: NetworkSpec | null;
  /** lower-case name (matching `^(?!(?:con|prn|aux|nul|com[0-9]|lpt[0-9])$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`) */
  name: string;
}

export interface NetworkList {
  revision: string | null;
  networks: NetworkOut[];
}

export interface NetworkOut {
  name: string;
  /** repository path of the file */
  path: string;
  /** the live revision the file was read at */
  revision: string | null;
  /** the file's text */
  toml: string;
  spec: NetworkSpec;
  /** nodes with an interface in this network */
  members: string[];
  /** every pair of members that peer with each other, resolved by the server from the network's connections: each pair once as [a, b] with a < b, pairs sorted; null in the network list (a full mesh has n*(n-1)/2 pairs: read one network) */
  links: [string, string][] | null;
}

/** ``networks/<name>.toml``. */
export interface NetworkSpec {
  /** one line of text */
  description?: string | null;
  /** CIDR of the network, like 10.20.0.0/16 */
  address_range: string;
  listen_port?: number | null;
  /** seconds, 0 is off (0..65535) */
  persistent_keepalive?: number | null;
  /** 576..65535 */
  mtu?: number | null;
  /** IP address */
  dns?: string[] | null;
  connections?: ConnectionSpec[] | null;
}

export interface NetworkWrite {
  /** commit message (a default names the file) (<= 10000 chars) */
  message?: string | null;
  /** the whole file as TOML text */
  toml?: string | null;
  spec?: NetworkSpec | null;
}

export interface NodeCreate {
  /** commit message (a default names the file) (<= 10000 chars) */
  message?: string | null;
  /** the whole file as TOML text */
  toml?: string | null;
  spec?: NodeSpec | null;
  /** lower-case name (matching `^(?!(?:con|prn|aux|nul|com[0-9]|lpt[0-9])$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`) */
  name: string;
}

export interface NodeDiffOut {
  node: string;
  status: "added" | "removed" | "changed";
  changes: ConfigChangeOut[];
  /** changes of this node a summary left out */
  omitted_changes: number;
}

export interface NodeList {
  revision: string | null;
  nodes: NodeOut[];
}

export interface NodeOut {
  name: string;
  /** repository path of the file */
  path: string;
  /** the live revision the file was read at */
  revision: string | null;
  /** the file's text */
  toml: string;
  spec: NodeSpec;
  /** network -> registered public key */
  keys: Record<string, string>;
  /** hash of the node's desired config */
  config_hash: string | null;
}

/** ``nodes/<name>.toml``. */
export interface NodeSpec {
  /** one line of text */
  description?: string | null;
  /** host name or IP address peers connect to */
  endpoint?: string | null;
  /** key -> value, matched by connection selectors */
  labels?: Record<string, string> | null;
  interfaces?: Record<string, InterfaceSpec> | null;
}

export interface NodeStatus {
  node: string;
  /** hash of the config at the live revision */
  desired_hash: string | null;
  /** hash the agent last reported as applied */
  applied_hash: string | null;
  applied_revision: string | null;
  /** the applied hash equals the desired hash and the agent reports no errors; per-peer problems (`peers[].problem`) do not count: the agent applied everything else */
  in_sync: boolean;
  /** unix time of the last report, null when never */
  last_seen: number | null;
  errors: string[];
  peers: PeerStatus[];
}

export interface NodeWrite {
  /** commit message (a default names the file) (<= 10000 chars) */
  message?: string | null;
  /** the whole file as TOML text */
  toml?: string | null;
  spec?: NodeSpec | null;
}

export interface OmittedNode {
  node: string;
  status: "added" | "removed" | "changed";
}

/** One ``[Peer]`` of an interface; :attr:`digest` is computed once, when built. */
export interface PeerConfig {
  /** matching `^(?:[a-z0-9][a-z0-9-]{0,62})$` */
  name: string;
  /** matching `^(?:[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)$` */
  public_key: string;
  /** matching `^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,7}:|(?:[0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,5}(?::[0-9A-Fa-f]{1,4}){1,2}|(?:[0-9A-Fa-f]{1,4}:){1,4}(?::[0-9A-Fa-f]{1,4}){1,3}|(?:[0-9A-Fa-f]{1,4}:){1,3}(?::[0-9A-Fa-f]{1,4}){1,4}|(?:[0-9A-Fa-f]{1,4}:){1,2}(?::[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(?::[0-9A-Fa-f]{1,4}){1,6}|:(?:(?::[0-9A-Fa-f]{1,4}){1,7}|:)|(?:[0-9A-Fa-f]{1,4}:){6}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){1,5}:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){1,4}:(?:[0-9A-Fa-f]{1,4}:){1}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){1,3}:(?:[0-9A-Fa-f]{1,4}:){1,2}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){1,2}:(?:[0-9A-Fa-f]{1,4}:){1,3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){1,4}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::(?:[0-9A-Fa-f]{1,4}:){0,5}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3})\]):(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))$` */
  endpoint?: string | null;
  allowed_ips?: string[];
  /** 1..65535 */
  persistent_keepalive?: number | null;
}

/** One peer as the agent sees it on the device. */
export interface PeerStatus {
  /** network of the interface (<= 64 chars) */
  network?: string | null;
  /** peer node name, when known (<= 64 chars) */
  name?: string | null;
  /** <= 64 chars */
  public_key: string;
  /** <= 300 chars */
  endpoint?: string | null;
  /** unix time of the last handshake, null when never (>= 0) */
  latest_handshake?: number | null;
  /** >= 0 */
  rx_bytes?: number;
  /** >= 0 */
  tx_bytes?: number;
  /** why the agent could not apply this peer fully (e.g. `endpoint unresolved: <reason>`, `refused by the device: <reason>`); the rest of the config is applied and the agent retries the peer (<= 4000 chars) */
  problem?: string | null;
}

/** A peer the node should have but cannot configure yet. */
export interface PendingPeer {
  /** matching `^(?:[a-z0-9][a-z0-9-]{0,62})$` */
  name: string;
  reason?: string;
}

export interface Person {
  name: string;
  email: string;
}

/** How many nodes have each status (listed or not). */
export interface PlanCounts {
  changed: number;
  added: number;
  removed: number;
}

/** What the summary was limited to (null: no limit). */
export interface PlanLimits {
  /** most nodes listed */
  nodes: number | null;
  /** most changes listed per node */
  changes: number | null;
  /** the one node asked for with ?node= */
  node: string | null;
  /** rendered config bytes compared before listing stops */
  bytes: number | null;
}

/**
 * What a change does to each node's rendered config, as a summary of bounded size:
 * the affected nodes in name order (ask for one with ``?node=``), the others named
 * in ``more_nodes``.
 */
export interface PlanOut {
  nodes: NodeDiffOut[];
  /** nodes whose config does not change */
  unchanged: number;
  counts: PlanCounts;
  /** affected nodes not listed in nodes */
  omitted_nodes: number;
  /** the affected nodes not listed */
  more_nodes: OmittedNode[];
  /** every affected node is listed with every change */
  complete: boolean;
  limits: PlanLimits;
}

export interface ProblemOut {
  path: string;
  key: string;
  message: string;
}

export interface ReviewOut {
  branch: string;
  head: string;
  /** the live branch head compared with */
  base: string | null;
  valid: boolean;
  /** validation problems (path, key, message) */
  problems: ProblemOut[];
  /** why the branch's changes do not apply to the live branch (rebase it) */
  conflict: string | null;
  /** commits the branch brings, oldest first */
  commits: BranchCommitOut[];
  /** the live branch head is an ancestor of the branch */
  up_to_date: boolean;
  /** how POST .../merge would merge it (null: it cannot be merged) */
  merge: "fast-forward" | "squash" | null;
  /** per-node changes against the live revision */
  plan: PlanOut | null;
  summary: string | null;
  /** the plan as Markdown, for a pull request comment */
  markdown: string | null;
}

export interface RevisionDetail {
  id: string;
  parents: string[];
  author: Person;
  committer: Person;
  /** author time, unix seconds */
  time: number;
  message: string;
  /** files the commit changed */
  paths: string[];
  /** server | verified | unverified | signed | unsigned (see docs/api.md) */
  signature: string;
  files: FileDiff[];
  /** per-node plan against the parent (null when either is not a valid state) */
  plan: PlanOut | null;
  /** why this revision is not a valid state (a review branch commit, say) */
  problems: ProblemOut[];
}

export interface RevisionList {
  revisions: RevisionOut[];
}

export interface RevisionOut {
  id: string;
  parents: string[];
  author: Person;
  committer: Person;
  /** author time, unix seconds */
  time: number;
  message: string;
  /** files the commit changed */
  paths: string[];
  /** server | verified | unverified | signed | unsigned (see docs/api.md) */
  signature: string;
}

export type Role = "admin" | "reader" | "node";

export interface SignerList {
  /** the server's public key line */
  server_key: string | null;
  signers: SignerOut[];
  /** the list in git's allowed_signers format */
  allowed_signers: string;
}

export interface SignerOut {
  principals: string[];
  key_type: string;
  /** TYPE BASE64, as in a .pub file */
  public_key: string;
  /** SHA256:..., as ssh-keygen -l prints it */
  fingerprint: string;
  namespaces: string[] | null;
  /** true for the server's own signing key */
  server: boolean;
}

export interface StatusOverview {
  /** the live revision */
  revision: string | null;
  nodes: NodeStatus[];
  in_sync: number;
  total: number;
}

/** Body of ``PUT /api/v1/nodes/{node}/status``. */
export interface StatusReport {
  /** hash of the last config that applied cleanly (null: none yet) (<= 64 chars) */
  applied_hash?: string | null;
  /** <= 64 chars */
  applied_revision?: string | null;
  errors?: string[];
  peers?: PeerStatus[];
}

export interface TokenCreate {
  role: Role;
  /** the node a node token is bound to (it must exist at the live revision) */
  node?: string | null;
  /** commit author name (1..200 chars, matching `^[^<>\r\n\x00]*\S[^<>\r\n\x00]*$`) */
  name?: string | null;
  /** 3..200 chars, matching `^[^\s<>@]+@[^\s<>]+$` */
  email?: string | null;
}

export interface TokenCreated {
  token: TokenView;
  /** the bearer token; shown only in this answer */
  secret: string;
}

export interface TokenList {
  tokens: TokenView[];
}

export interface TokenView {
  id: string;
  role: Role;
  node: string | null;
  name: string;
  email: string;
  /** unix time */
  created_at: number;
}

export interface ValidateRequest {
  /** repository path -> new text, or null to delete the file */
  changes: Record<string, string | null>;
  /** revision to apply the changes to (default: head) */
  base?: string | null;
}

export interface ValidateResult {
  valid: boolean;
  base: string | null;
  problems: ProblemOut[];
  /** per-node plan when the result is valid */
  plan: PlanOut | null;
}

export interface WhoAmI {
  token_id: string;
  name: string;
  email: string;
  role: Role;
  node: string | null;
}
