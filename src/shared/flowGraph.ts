/**
 * The graph of a flow.dag.yaml as the session panel draws it: its inputs, nodes and outputs, and an edge
 * for every reference between them (`${inputs.x}`, `${node.output…}`, an `activate.when`). Pure and
 * tolerant: it reads a flow that may be half written and draws what it can; the static checks report
 * what is wrong. Ids are prefixed by kind so an input and a node of the same name stay apart.
 */

export type GraphNodeKind = 'input' | 'node' | 'output';

export interface GraphNode {
  /** `input:<name>`, `node:<name>`, `output:<name>` */
  id: string;
  kind: GraphNodeKind;
  name: string;
  /** a node's type (python, llm, prompt, custom_llm…) or an input's/output's declared type */
  type?: string;
  /** a node's source: its file, or the package tool's id */
  source?: string;
  aggregation?: boolean;
  /** "when ${a.output} is true", for a node with an activate condition */
  activate?: string;
  /** a node with variants: their ids and the default one */
  variants?: { ids: string[]; default?: string };
}

export interface GraphEdge {
  from: string;
  to: string;
  /** data: a value flows along it; activate: it decides whether `to` runs */
  kind: 'data' | 'activate';
}

export interface FlowGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const graphId = {
  input: (name: string) => `input:${name}`,
  node: (name: string) => `node:${name}`,
  output: (name: string) => `output:${name}`,
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v : undefined);

const REF = /^\$\{\s*([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)[^}]*\}$/;

/** The graph id a reference points at: `${inputs.x}` → input:x, `${n.output…}` → node:n; undefined for anything else. */
export function referenceTarget(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = REF.exec(value.trim());
  if (!m) return undefined;
  if (m[1] === 'inputs') return graphId.input(m[2]);
  return m[2] === 'output' ? graphId.node(m[1]) : undefined;
}

function typeOf(spec: unknown): string | undefined {
  return isObj(spec) ? text(spec.type) : undefined;
}

/** The ids and default of a node's variants, from node_variants.<name> (when the node uses them). */
function variantsOf(flow: Obj, name: string): { ids: string[]; default?: string; nodes: Obj[] } | undefined {
  const nv = isObj(flow.node_variants) ? flow.node_variants[name] : undefined;
  if (!isObj(nv) || !isObj(nv.variants)) return undefined;
  const ids = Object.keys(nv.variants);
  const nodes = Object.values(nv.variants)
    .map((v) => (isObj(v) && isObj(v.node) ? v.node : undefined))
    .filter((n): n is Obj => n !== undefined);
  return { ids, default: text(nv.default_variant_id), nodes };
}

function sourceOf(node: Obj): string | undefined {
  const src = node.source;
  if (!isObj(src)) return undefined;
  return text(src.path) ?? text(src.tool);
}

/** The graph of a flow (the parsed flow.dag.yaml); an unreadable flow gives an empty graph. */
export function flowGraph(flow: unknown): FlowGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  if (!isObj(flow)) return { nodes, edges };
  const seen = new Set<string>();
  const add = (n: GraphNode) => {
    if (seen.has(n.id)) return;
    seen.add(n.id);
    nodes.push(n);
  };
  if (isObj(flow.inputs))
    for (const [name, spec] of Object.entries(flow.inputs)) add({ id: graphId.input(name), kind: 'input', name, type: typeOf(spec) });
  const edgeKeys = new Set<string>();
  const pending: GraphEdge[] = [];
  const link = (value: unknown, to: string, kind: GraphEdge['kind']) => {
    const from = referenceTarget(value);
    if (from === undefined || from === to) return;
    const key = `${from}\u0000${to}\u0000${kind}`;
    if (edgeKeys.has(key)) return;
    edgeKeys.add(key);
    pending.push({ from, to, kind });
  };
  for (const node of Array.isArray(flow.nodes) ? flow.nodes : []) {
    if (!isObj(node) || !text(node.name)) continue;
    const name = node.name as string;
    const id = graphId.node(name);
    const variants = node.use_variants === true ? variantsOf(flow, name) : undefined;
    // a node with variants reads the inputs of its variants (the default one runs unless another is chosen)
    const bodies = variants && variants.nodes.length ? variants.nodes : [node];
    const first = bodies[0];
    const activate = isObj(node.activate) ? node.activate : undefined;
    add({
      id,
      kind: 'node',
      name,
      type: text(node.type) ?? text(first.type),
      source: sourceOf(node) ?? sourceOf(first),
      ...(node.aggregation === true ? { aggregation: true } : {}),
      ...(activate ? { activate: `when ${String(activate.when)} is ${JSON.stringify(activate.is) ?? 'undefined'}` } : {}),
      ...(variants ? { variants: { ids: variants.ids, ...(variants.default ? { default: variants.default } : {}) } } : {}),
    });
    for (const body of bodies) if (isObj(body.inputs)) for (const v of Object.values(body.inputs)) link(v, id, 'data');
    if (activate) link(activate.when, id, 'activate');
  }
  if (isObj(flow.outputs))
    for (const [name, spec] of Object.entries(flow.outputs)) {
      const id = graphId.output(name);
      add({ id, kind: 'output', name, type: typeOf(spec) });
      if (isObj(spec)) link(spec.reference, id, 'data');
    }
  // an edge from something the flow does not define is left out: the static checks name that reference
  for (const e of pending) if (seen.has(e.from) && seen.has(e.to)) edges.push(e);
  return { nodes, edges };
}

/**
 * The graph of a flex flow or a prompty, which has no nodes of its own: its inputs into its one step (the entry or
 * the prompty, named as its runs name it, so the step shows the run's live status), then the outputs it declares.
 */
export function entryGraph(
  step: { name: string; kind: 'flex' | 'prompty'; source?: string; outputs: string[] },
  inputs: string[],
): FlowGraph {
  const id = graphId.node(step.name);
  const nodes: GraphNode[] = [
    ...inputs.map((name) => ({ id: graphId.input(name), kind: 'input' as const, name })),
    { id, kind: 'node', name: step.name, type: step.kind, ...(step.source ? { source: step.source } : {}) },
    ...step.outputs.map((name) => ({ id: graphId.output(name), kind: 'output' as const, name })),
  ];
  const edges: GraphEdge[] = [
    ...inputs.map((name) => ({ from: graphId.input(name), to: id, kind: 'data' as const })),
    ...step.outputs.map((name) => ({ from: id, to: graphId.output(name), kind: 'data' as const })),
  ];
  return { nodes, edges };
}
