/**
 * Places a flow graph's boxes and routes its edges with dagre (bundled into the webview script), top to
 * bottom as prompt flow draws a DAG. No DOM here: the bench and the unit tests time and check it in Node.
 */
import { Graph, layout } from '@dagrejs/dagre';
import type { FlowGraph, GraphEdge, GraphNode } from '../../shared/flowGraph';

export interface PlacedNode {
  node: GraphNode;
  /** top-left corner and size */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  edge: GraphEdge;
  points: { x: number; y: number }[];
}

export interface GraphLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

/** the width of a character of the panel's font, near enough for sizing boxes */
const CHAR_PX = 7.2;
const MARGIN = 16;
/** boxes up to which dagre's crossing-reduction sweeps run */
const SWEEP_LIMIT = 40;

/** A box's size: wide enough for its name and type line, taller for an activate or variants line. */
export function boxSize(n: GraphNode): { width: number; height: number } {
  const lines = [n.name, n.type ?? ''];
  if (n.variants) lines.push(`variants: ${n.variants.ids.join(', ')}`);
  if (n.activate) lines.push(n.activate);
  const longest = Math.max(...lines.map((l) => l.length));
  const width = Math.round(Math.min(280, Math.max(n.kind === 'node' ? 140 : 100, longest * CHAR_PX + 28)));
  return { width, height: 40 + 16 * (lines.length - 2) };
}

export function layoutGraph(graph: FlowGraph): GraphLayout {
  const g = new Graph({ multigraph: true });
  // tight-tree ranks almost as compactly as network-simplex at a fraction of its cost on a wide 100-node flow
  g.setGraph({ rankdir: 'TB', ranker: 'tight-tree', nodesep: 24, ranksep: 44, edgesep: 12, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, boxSize(n));
  graph.edges.forEach((e, i) => g.setEdge(e.from, e.to, {}, `e${i}`));
  // the crossing-reduction sweeps cost the most; past a few dozen boxes the first ordering (a depth-first one) is kept
  layout(g, { disableOptimalOrderHeuristic: graph.nodes.length > SWEEP_LIMIT });
  const nodes = graph.nodes.map((node) => {
    const p = g.node(node.id);
    return { node, x: p.x - p.width / 2, y: p.y - p.height / 2, width: p.width, height: p.height };
  });
  const edges = graph.edges.map((edge, i) => ({
    edge,
    points: (
      (g.edge({ v: edge.from, w: edge.to, name: `e${i}` }) as { points?: { x: number; y: number }[] } | undefined)?.points ?? []
    ).map((p) => ({ x: p.x, y: p.y })),
  }));
  const label = g.graph();
  return { nodes, edges, width: Math.ceil(label.width ?? 0), height: Math.ceil(label.height ?? 0) };
}
