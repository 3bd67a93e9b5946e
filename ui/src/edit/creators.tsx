// New files: a node (with one interface) or a network. Each is an EditForm whose
// name field picks the file; the server answers 409 when that name is taken.

import { useRef } from "preact/hooks";

import { useSession } from "../session-context";
import type { NetworkOut, NodeOut } from "../api-types";
import { EditForm } from "./EditForm";
import type { FieldDef, Values } from "./fields";
import { NETWORK_FIELDS } from "./editors";

interface CreatorProps {
  onCreated: (name: string) => void;
  onCancel: () => void;
}

const NAME_FIELD: FieldDef = {
  key: "name",
  label: "Name",
  kind: "text",
  help: "lower case letters, digits and dashes; also the file name",
};

type Data = Record<string, unknown>;

/** The request body of a create: the name beside the file's fields. */
function createBody(data: Data, message: string): { name: unknown; spec: Data; message: string } {
  const { name, ...spec } = data;
  return { name: name ?? "", spec, message };
}

const NEW_NETWORK_KEYS = ["description", "address_range", "listen_port", "persistent_keepalive"];
export const NEW_NETWORK_FIELDS: FieldDef[] = [
  NAME_FIELD,
  ...NETWORK_FIELDS.filter((f) => NEW_NETWORK_KEYS.includes(f.key)),
];

export function NetworkCreator({ onCreated, onCancel }: CreatorProps) {
  const { client } = useSession();
  const made = useRef("");
  return (
    <EditForm
      title="New network"
      path={(values) => `networks/${values.name?.trim() ?? ""}.toml`}
      conflictField="name"
      fields={NEW_NETWORK_FIELDS}
      data={{}}
      revision={null}
      defaultMessage="Add a network"
      submitLabel="Create network"
      submit={async (data, _revision, message) => {
        const body = createBody(data, message);
        const created = await client.json<NetworkOut>("/networks", { method: "POST", body });
        made.current = created.name;
        return created;
      }}
      onSaved={() => onCreated(made.current)}
      onCancel={onCancel}
    />
  );
}

/** The node form keeps its one interface under `interface`; the file under `interfaces.NET`. */
export function newNodeFields(networks: string[]): FieldDef[] {
  return [
    NAME_FIELD,
    { key: "description", label: "Description", kind: "text" },
    {
      key: "endpoint",
      label: "Endpoint",
      kind: "text",
      help: "host name or address peers use to reach this node; empty behind NAT",
    },
    { key: "labels", label: "Labels", kind: "labels", placeholder: "role=hub, cloud=aws" },
    {
      key: "interface.network",
      label: "Network",
      kind: "choice",
      options: networks,
      group: "Interface",
    },
    {
      key: "interface.address",
      label: "Address",
      kind: "text",
      group: "Interface",
      placeholder: "10.20.0.7/16",
      help: "inside the network's range, with its prefix length",
    },
    { key: "interface.listen_port", label: "Listen port", kind: "number", group: "Interface" },
  ];
}

function interfaceAlias(values: Values): Record<string, string> {
  const network = values["interface.network"]?.trim();
  return network ? { [`interfaces.${network}`]: "interface" } : {};
}

export function NodeCreator({
  networks,
  onCreated,
  onCancel,
}: CreatorProps & { networks: string[] }) {
  const { client } = useSession();
  const made = useRef("");
  return (
    <EditForm
      title="New node"
      path={(values) => `nodes/${values.name?.trim() ?? ""}.toml`}
      aliases={interfaceAlias}
      conflictField="name"
      fields={newNodeFields(networks)}
      data={{ interface: { network: networks[0] ?? "" } }}
      revision={null}
      defaultMessage="Add a node"
      submitLabel="Create node"
      submit={async (data, _revision, message) => {
        const { interface: joined, ...rest } = data;
        const { network, ...settings } = (joined ?? {}) as Data;
        const fields: Data = { ...rest };
        if (typeof network === "string" && network) fields.interfaces = { [network]: settings };
        const body = createBody(fields, message);
        const created = await client.json<NodeOut>("/nodes", { method: "POST", body });
        made.current = created.name;
        return created;
      }}
      onSaved={() => onCreated(made.current)}
      onCancel={onCancel}
    />
  );
}
