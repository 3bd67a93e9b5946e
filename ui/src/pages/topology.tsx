// A network's topology: nodes coloured by health, edges by handshake recency.

import cytoscape, { type Core, type ElementDefinition } from "cytoscape";
import fcose from "cytoscape-fcose";
import { useEffect, useRef } from "preact/hooks";

import { enc } from "../api";
import { ErrorNote, HealthBadge, Loading, Page } from "../components/feedback";
import { edgesOf, HEALTH_LABEL, type Health, healthOf, pairHandshake, type Recency, recencyOf } from "../model";
import { href, navigate } from "../router";
import { useInterval, useLoad } from "../session-context";
import type { NetworkOut, NodeList, NodeStatus, StatusOverview } from "../api-types";

cytoscape.use(fcose);

const HEALTH_COLOUR: Record<Health, string> = {
  "in-sync": "#2f9e44",
  pending: "#e8a100",
  error: "#d9480f",
  offline: "#868e96",
};

const RECENCY: Record<Recency, { colour: string; label: string; style: "solid" | "dashed" }> = {
  fresh: { colour: "#2f9e44", label: "handshake < 3 min", style: "solid" },
  stale: { colour: "#e8a100", label: "handshake < 15 min", style: "solid" },
  old: { colour: "#d9480f", label: "handshake older", style: "dashed" },
  none: { colour: "#adb5bd", label: "no handshake reported", style: "dashed" },
};

export function TopologyPage({ name }: { name: string }) {
  const data = useLoad(`topology:${name}`, async (c) => {
    const [network, nodes] = await Promise.all([
      c.json<NetworkOut>(`/networks/${enc(name)}`),
      c.json<NodeList>("/nodes"),
    ]);
    return { network, nodes: nodes.nodes };
  });
  const status = useLoad("status", (c) => c.json<StatusOverview>("/status"));
  useInterval(status.reload, 15);

  if (data.error) return <ErrorNote error={data.error} retry={data.reload} />;
  if (!data.data) return <Loading what={`the topology of ${name}`} />;
  const { network } = data.data;
  const members = data.data.nodes.filter((n) => network.members.includes(n.name));
  const statuses = new Map((status.data?.nodes ?? []).map((s) => [s.node, s]));
  return (
    <Page
      title={
        <>
          <span class="muted">topology of</span> {network.name}
        </>
      }
      actions={
        <a class="button" href={href("networks", network.name)}>
          Network settings
        </a>
      }
    >
      <Graph network={network} members={members.map((m) => m.name)} statuses={statuses} />
      <Legend />
      <h2>Nodes</h2>
      <ul class="members" data-testid="topology-nodes">
        {members.map((m) => (
          <li key={m.name}>
            <a href={href("nodes", m.name)}>{m.name}</a> <HealthBadge health={healthOf(statuses.get(m.name))} />
          </li>
        ))}
      </ul>
    </Page>
  );
}

function Graph({
  network,
  members,
  statuses,
}: {
  network: NetworkOut;
  members: string[];
  statuses: Map<string, NodeStatus>;
}) {
  const container = useRef<HTMLDivElement>(null);
  const graph = useRef<Core | null>(null);
  const edges = edgesOf(network);
  const structure = `${members.join(",")}|${edges.map((e) => `${e.a}-${e.b}`).join(",")}`;

  useEffect(() => {
    if (!container.current) return;
    const degree = new Map<string, number>();
    for (const e of edges) {
      degree.set(e.a, (degree.get(e.a) ?? 0) + 1);
      degree.set(e.b, (degree.get(e.b) ?? 0) + 1);
    }
    const big = members.length > 40;
    // In a big graph only the busiest nodes keep their label until one zooms in.
    const labelled = big ? Math.max(8, ...degree.values()) / 2 : 0;
    const elements: ElementDefinition[] = [
      ...members.map((m) => ({
        data: { id: m, label: m },
        classes: (degree.get(m) ?? 0) >= labelled ? "labelled" : "",
      })),
      ...edges.map((e) => ({ data: { id: `${e.a}~${e.b}`, source: e.a, target: e.b } })),
    ];
    const cy = cytoscape({
      container: container.current,
      elements,
      minZoom: 0.1,
      maxZoom: 4,
      wheelSensitivity: 0.4,
      style: [
        {
          selector: "node",
          style: {
            label: "data(label)",
            "font-size": big ? 6 : 11,
            "min-zoomed-font-size": big ? 9 : 0,
            "text-valign": "bottom",
            "text-margin-y": 3,
            width: big ? 12 : 22,
            height: big ? 12 : 22,
            "background-color": "data(colour)",
            "border-width": big ? 1 : 2,
            "border-color": "#fff",
            color: "#212529",
            "text-background-color": "#fff",
            "text-background-opacity": 0.75,
          },
        },
        {
          selector: "node.labelled",
          style: { "font-size": 11, "min-zoomed-font-size": 0, width: 20, height: 20 },
        },
        {
          selector: "edge",
          style: {
            width: big ? 1 : 2,
            "line-color": "data(colour)",
            "line-style": "data(lineStyle)" as "solid",
            "curve-style": "haystack",
            opacity: big ? 0.35 : 0.9,
          },
        },
        { selector: ".faded", style: { opacity: 0.08 } },
        { selector: "node.focus", style: { "font-size": 12, "min-zoomed-font-size": 0 } },
        { selector: "edge.focus", style: { opacity: 1, width: 2 } },
        { selector: "node:selected", style: { "border-color": "#1c7ed6", "border-width": 3 } },
      ],
      layout: { name: "grid" },
    });
    cy.on("tap", "node", (event) => navigate(href("nodes", event.target.id() as string)));
    cy.on("mouseover", "node", (event) => {
      container.current?.classList.add("pointing");
      const near = event.target.closedNeighborhood();
      cy.elements().not(near).addClass("faded");
      near.addClass("focus");
    });
    cy.on("mouseout", "node", () => {
      container.current?.classList.remove("pointing");
      cy.elements().removeClass("faded focus");
    });
    graph.current = cy;
    paint(cy, network.name, statuses);
    cy.layout({
      name: "fcose",
      animate: false,
      randomize: true,
      quality: members.length > 300 ? "draft" : "default",
      nodeRepulsion: () => (big ? 12000 : 8000),
      idealEdgeLength: () => (big ? 80 : 110),
      padding: 30,
    } as cytoscape.LayoutOptions).run();
    return () => {
      cy.destroy();
      graph.current = null;
    };
  }, [structure]);

  useEffect(() => {
    if (graph.current) paint(graph.current, network.name, statuses);
  }, [statuses, structure]);

  return (
    <div
      ref={container}
      class="graph"
      data-testid="topology"
      data-nodes={members.length}
      data-edges={edges.length}
      role="img"
      aria-label={`graph of ${members.length} nodes and ${edges.length} peerings in ${network.name}; the list below links every node`}
    />
  );
}

function paint(cy: Core, network: string, statuses: Map<string, NodeStatus>) {
  cy.batch(() => {
    cy.nodes().forEach((node) => {
      node.data("colour", HEALTH_COLOUR[healthOf(statuses.get(node.id()))]);
    });
    cy.edges().forEach((edge) => {
      const recency = recencyOf(
        pairHandshake(edge.source().id(), edge.target().id(), network, statuses),
      );
      edge.data("colour", RECENCY[recency].colour);
      edge.data("lineStyle", RECENCY[recency].style);
    });
  });
}

function Legend() {
  return (
    <div class="legend" aria-label="legend">
      {(Object.keys(HEALTH_COLOUR) as Health[]).map((h) => (
        <span key={h}>
          <i class="dot" style={{ background: HEALTH_COLOUR[h] }} /> {HEALTH_LABEL[h]}
        </span>
      ))}
      {(Object.keys(RECENCY) as Recency[]).map((r) => (
        <span key={r}>
          <i class={`line line-${RECENCY[r].style}`} style={{ borderColor: RECENCY[r].colour }} />{" "}
          {RECENCY[r].label}
        </span>
      ))}
    </div>
  );
}
