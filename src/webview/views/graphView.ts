/// <reference lib="dom" />
/**
 * The flow as a graph: inputs, nodes and outputs laid out top to bottom, edges from the references (an
 * activate condition dashed), aggregation nodes and variants marked, and during a run each node's live status
 * and duration. Drawn as SVG through DOM calls only. A click on a node asks the host to open its source.
 */
import { el, formatDuration, svg } from '../dom';
import type { FlowGraph, GraphNode } from '../../shared/flowGraph';
import type { RunView } from '../../shared/protocol';
import { layoutGraph, type GraphLayout } from '../graph/layout';

export type GraphNodeStatus = 'pending' | 'running' | 'completed' | 'failed' | 'bypassed' | 'canceled';

/** the graph's layout, kept while the graph object is the same (a run's events only change colours) */
let cached: { graph: FlowGraph; layout: GraphLayout } | undefined;

function layoutOf(graph: FlowGraph): GraphLayout {
  if (cached?.graph !== graph) cached = { graph, layout: layoutGraph(graph) };
  return cached.layout;
}

/** The status of each node of the graph in the current run: pending until the runtime reports it. */
export function nodeStatuses(graph: FlowGraph, run: RunView | null): Map<string, { status: GraphNodeStatus; durationMs?: number }> {
  const out = new Map<string, { status: GraphNodeStatus; durationMs?: number }>();
  if (!run) return out;
  const active = run.status === 'Preparing' || run.status === 'Running';
  const seen = new Map(run.nodes.map((n) => [n.node, n]));
  for (const n of graph.nodes) {
    if (n.kind !== 'node') continue;
    const v = seen.get(n.name);
    if (v) out.set(n.name, { status: v.status.toLowerCase() as GraphNodeStatus, durationMs: v.durationMs });
    // a node the run never reached: pending while it goes; after it, not run (shown as such)
    else out.set(n.name, { status: active ? 'pending' : 'canceled' });
  }
  return out;
}

function label(n: GraphNode): string {
  if (n.kind === 'input') return `input · ${n.type ?? 'string'}`;
  if (n.kind === 'output') return `output${n.type ? ` · ${n.type}` : ''}`;
  return [n.type ?? 'node', n.aggregation ? 'aggregation' : ''].filter(Boolean).join(' · ');
}

function arrowPath(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}

/** `fit`: the whole graph scaled to the panel's width (a large flow at a glance) instead of its natural size. */
export function renderGraph(graph: FlowGraph | null, error: string | undefined, run: RunView | null, fit = false): Node[] {
  const head = error ? el('p', { class: 'error', role: 'alert' }, `${error} (showing the last graph that could be read)`) : null;
  if (!graph || graph.nodes.length === 0)
    return [head ?? el('p', { class: 'muted' }, graph ? 'The flow has no nodes yet.' : 'Reading the flow…')];
  const layout = layoutOf(graph);
  const statuses = nodeStatuses(graph, run);
  const edges = layout.edges.map((e) =>
    svg('path', {
      class: `graph-edge edge-${e.edge.kind}`,
      d: arrowPath(e.points),
      'marker-end': 'url(#fs-arrow)',
      'data-from': e.edge.from,
      'data-to': e.edge.to,
    }),
  );
  const boxes = layout.nodes.map((p) => {
    const n = p.node;
    const st = n.kind === 'node' ? statuses.get(n.name) : undefined;
    const lines: string[] = [label(n)];
    if (n.variants) lines.push(`variants: ${n.variants.ids.map((id) => (id === n.variants?.default ? `${id}*` : id)).join(', ')}`);
    if (n.activate) lines.push(`activate ${n.activate}`);
    const statusText = st ? `${st.status}${st.durationMs !== undefined ? ` · ${formatDuration(st.durationMs)}` : ''}` : '';
    const g = svg(
      'g',
      {
        class: [
          'graph-node',
          `kind-${n.kind}`,
          n.aggregation ? 'aggregation' : '',
          n.activate ? 'activated' : '',
          st ? `status-${st.status}` : '',
        ]
          .filter(Boolean)
          .join(' '),
        transform: `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`,
        'data-graph-node': n.id,
        'data-status': st?.status,
        ...(n.kind === 'node' ? { 'data-action': 'openNodeSource', 'data-node': n.name, role: 'button', tabindex: 0 } : {}),
      },
      svg('title', {}, n.kind === 'node' ? `${n.name}${n.source ? ` — ${n.source}` : ''}\nClick to open its source` : n.name),
      svg('rect', { class: 'graph-box', width: p.width, height: p.height, rx: n.kind === 'node' ? 6 : p.height / 2 }),
      svg('text', { class: 'graph-name', x: 10, y: 17 }, n.name),
      ...lines.map((l, i) => svg('text', { class: 'graph-detail', x: 10, y: 33 + 16 * i }, l.length > 40 ? `${l.slice(0, 39)}…` : l)),
      statusText
        ? svg('text', { class: 'graph-status', x: p.width - 8, y: 17, 'text-anchor': 'end', 'data-testid': 'graph-status' }, statusText)
        : null,
    );
    return g;
  });
  const drawing = svg(
    'svg',
    {
      class: 'graph',
      width: layout.width,
      height: layout.height,
      viewBox: `0 0 ${layout.width} ${layout.height}`,
      role: 'img',
      'aria-label': `Flow graph: ${graph.nodes.length} inputs, nodes and outputs`,
      'data-testid': 'flow-graph',
    },
    svg(
      'defs',
      {},
      svg(
        'marker',
        { id: 'fs-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'graph-arrow' }),
      ),
    ),
    svg('g', { class: 'graph-edges' }, ...edges),
    svg('g', { class: 'graph-nodes' }, ...boxes),
  );
  const legend = el(
    'div',
    { class: 'graph-legend muted' },
    el(
      'vscode-button',
      { 'data-action': 'toggleGraphFit', appearance: 'secondary', class: 'graph-fit', 'data-testid': 'graph-fit' },
      fit ? 'Natural size' : 'Fit to width',
    ),
    ' ',
    'Solid edge: a value flows; dashed: an activate condition; thick border: an aggregation node; * the default variant. Click a node to open its source.',
  );
  return [head, el('div', { class: fit ? 'graph-scroll graph-fit-width' : 'graph-scroll' }, drawing), legend].filter(
    (n): n is HTMLElement => n !== null,
  );
}
