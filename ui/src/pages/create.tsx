// New node / new network pages (admins): the form, then the new file's page.

import { Empty, ErrorNote, Loading, Page } from "../components/feedback";
import { NetworkCreator, NodeCreator } from "../edit/creators";
import { href, navigate } from "../router";
import { useLoad, useSession } from "../session-context";
import type { NetworkList } from "../api-types";

export type Creatable = "node" | "network";

export function CreatePage({ kind }: { kind: Creatable }) {
  const { canWrite } = useSession();
  const title = kind === "node" ? "New node" : "New network";
  if (!canWrite) {
    return (
      <Page title={title}>
        <p class="note warning">
          Only admins create {kind}s: this token is read-only. <a href={href()}>Back to the overview</a>.
        </p>
      </Page>
    );
  }
  return (
    <Page title={title}>
      {kind === "node" ? <NewNode /> : <NewNetwork />}
    </Page>
  );
}

const back = () => navigate("/");

function NewNetwork() {
  return (
    <NetworkCreator
      onCreated={(name) => navigate(href("networks", name))}
      onCancel={back}
    />
  );
}

function NewNode() {
  const networks = useLoad("networks", (c) => c.json<NetworkList>("/networks"));
  if (networks.error) return <ErrorNote error={networks.error} retry={networks.reload} />;
  if (!networks.data) return <Loading what="the networks" />;
  const names = networks.data.networks.map((n) => n.name);
  if (names.length === 0) {
    return (
      <Empty>
        A node joins a network: <a href={href("new", "network")}>create a network</a> first.
      </Empty>
    );
  }
  return (
    <NodeCreator
      networks={names}
      onCreated={(name) => navigate(href("nodes", name))}
      onCancel={back}
    />
  );
}
