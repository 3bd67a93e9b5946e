// Shapes the UI uses that the OpenAPI document does not describe. The API's own
// shapes are generated into api-types.ts from the OpenAPI document
// (`python -m drago.server.api.openapi --typescript > ui/src/api-types.ts`).

/** What a write answers: `Committed`, or the written file (`NodeOut`, `NetworkOut`). */
export interface WriteAnswer {
  revision: string | null;
  committed?: boolean;
  paths?: string[];
}

// The config document of `GET /nodes/{node}/config` (JSON, or wg-quick text with
// ?format=wg-quick): the agent's document, as the renderer writes it.

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
