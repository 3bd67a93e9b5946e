// The quick edits: a node, a network, one connection. Each is an EditForm over one file.

import { enc } from "../api";
import { useSession } from "../session-context";
import type { Committed, ConnectionSpec, NetworkOut, NodeOut } from "../api-types";
import type { WriteAnswer } from "../types";
import { EditForm } from "./EditForm";
import type { FieldDef } from "./fields";

interface EditorProps<T> {
  item: T;
  onSaved: (committed: Committed) => void;
  onCancel: () => void;
}

export function nodeFields(node: NodeOut): FieldDef[] {
  const fields: FieldDef[] = [
    { key: "description", label: "Description", kind: "text" },
    {
      key: "endpoint",
      label: "Endpoint",
      kind: "text",
      help: "host name or address peers use to reach this node; empty behind NAT",
    },
    { key: "labels", label: "Labels", kind: "labels", placeholder: "role=hub, cloud=aws" },
  ];
  for (const network of Object.keys(node.spec.interfaces ?? {}).sort()) {
    const at = `interfaces.${network}`;
    fields.push(
      { key: `${at}.address`, label: "Address", kind: "text", group: network },
      { key: `${at}.listen_port`, label: "Listen port", kind: "number", group: network },
      {
        key: `${at}.routes`,
        label: "Routes",
        kind: "list",
        group: network,
        help: "subnets this node serves into the overlay, comma separated",
      },
    );
  }
  return fields;
}

export function NodeEditor({ item, onSaved, onCancel }: EditorProps<NodeOut>) {
  const { client } = useSession();
  const url = `/nodes/${enc(item.name)}`;
  return (
    <EditForm
      title={`Edit node ${item.name}`}
      path={item.path}
      fields={nodeFields(item)}
      data={item.spec}
      revision={item.revision}
      defaultMessage={`Update node ${item.name}`}
      submit={(spec, revision, message) =>
        client.json<WriteAnswer>(url, { method: "PUT", body: { spec, message }, ifMatch: revision })
      }
      reread={async () => {
        const latest = await client.json<NodeOut>(url);
        return { data: latest.spec, revision: latest.revision };
      }}
      onSaved={onSaved}
      onCancel={onCancel}
    />
  );
}

export const NETWORK_FIELDS: FieldDef[] = [
  { key: "description", label: "Description", kind: "text" },
  { key: "address_range", label: "Address range", kind: "text", placeholder: "10.20.0.0/16" },
  { key: "listen_port", label: "Listen port", kind: "number", help: "default for interfaces" },
  {
    key: "persistent_keepalive",
    label: "Persistent keepalive",
    kind: "number",
    help: "seconds; default for connections",
  },
  { key: "mtu", label: "MTU", kind: "number" },
  { key: "dns", label: "DNS servers", kind: "list" },
];

export function NetworkEditor({ item, onSaved, onCancel }: EditorProps<NetworkOut>) {
  const { client } = useSession();
  const url = `/networks/${enc(item.name)}`;
  return (
    <EditForm
      title={`Edit network ${item.name}`}
      path={item.path}
      fields={NETWORK_FIELDS}
      data={item.spec}
      revision={item.revision}
      defaultMessage={`Update network ${item.name}`}
      submit={(spec, revision, message) =>
        client.json<WriteAnswer>(url, { method: "PUT", body: { spec, message }, ifMatch: revision })
      }
      reread={async () => {
        const latest = await client.json<NetworkOut>(url);
        return { data: latest.spec, revision: latest.revision };
      }}
      onSaved={onSaved}
      onCancel={onCancel}
    />
  );
}

export const CONNECTION_FIELDS: FieldDef[] = [
  {
    key: "between[0]",
    label: "One end",
    kind: "text",
    help: "a node name, * or key=value[,key=value]",
  },
  { key: "between[1]", label: "Other end", kind: "text" },
  { key: "description", label: "Description", kind: "text" },
  { key: "persistent_keepalive", label: "Persistent keepalive", kind: "number" },
];

export function ConnectionEditor({
  network,
  index,
  onSaved,
  onCancel,
}: {
  network: NetworkOut;
  /** The connection to edit, or null for a new one. */
  index: number | null;
  onSaved: (committed: Committed) => void;
  onCancel: () => void;
}) {
  const { client } = useSession();
  const list = network.spec.connections ?? [];
  const position = index ?? list.length;
  const base = `/networks/${enc(network.name)}/connections`;
  const connectionAt = (spec: { connections?: ConnectionSpec[] | null }): ConnectionSpec =>
    spec.connections?.[position] ?? { between: ["", ""] };
  return (
    <EditForm
      title={index === null ? "New connection" : `Edit connection ${index}`}
      path={network.path}
      prefix={`connections[${position}].`}
      fields={CONNECTION_FIELDS}
      data={index === null ? { between: ["", ""] } : connectionAt(network.spec)}
      revision={network.revision}
      defaultMessage={
        index === null
          ? `Add a connection to ${network.name}`
          : `Update connection ${index} of ${network.name}`
      }
      submitLabel={index === null ? "Add connection" : "Commit"}
      submit={(connection, revision, message) => {
        const between = (connection.between as unknown[] | undefined) ?? [];
        const body = {
          connection: { ...connection, between: [between[0] ?? "", between[1] ?? ""] },
          message,
        };
        return index === null
          ? client.json<Committed>(base, { method: "POST", body, ifMatch: revision })
          : client.json<Committed>(`${base}/${index}`, { method: "PUT", body, ifMatch: revision });
      }}
      reread={async () => {
        const latest = await client.json<NetworkOut>(`/networks/${enc(network.name)}`);
        return {
          data: index === null ? { between: ["", ""] } : connectionAt(latest.spec),
          revision: latest.revision,
        };
      }}
      onSaved={onSaved}
      onCancel={onCancel}
    />
  );
}
