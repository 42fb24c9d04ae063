import { YamlPath } from './dagDocument';
import { FlowModel, isAggregation, isMapping, NodeDef } from './flowModel';
import { msg } from './messages';
import { ProblemSink } from './problemSink';
import { parseReference } from './references';

/** Duplicate names, dangling references, aggregation misuse, cycles and output references. */
export function checkGraph(model: FlowModel, sink: ProblemSink): void {
  checkDuplicates(model, sink);
  const names = new Set(model.nodes.map((n) => n.name).filter((n): n is string => n !== undefined));
  const aggregation = new Set(model.effective.filter((n) => isAggregation(n.body) && n.name !== undefined).map((n) => n.name as string));
  // a node replaced by its default variant is checked through its variants
  const replaced = new Set(model.effective.filter((e) => e.variant !== undefined).map((e) => e.name));
  const defs = [...model.nodes.filter((n) => !(n.body.use_variants === true && replaced.has(n.name))), ...model.variants];
  for (const def of defs) checkReferences(def, model, names, aggregation, sink);
  checkCycles(model, names, sink);
  checkOutputs(model, names, aggregation, sink);
}

function checkDuplicates(model: FlowModel, sink: ProblemSink): void {
  const seen = new Set<string>();
  for (const node of model.nodes) {
    if (node.name === undefined) continue;
    if (seen.has(node.name)) sink.error('DuplicateNodeName', msg.duplicateNodeName(node.name), [...node.path, 'name']);
    seen.add(node.name);
  }
}

interface RefSite {
  value: unknown;
  at: YamlPath;
  activate: boolean;
}

function refSites(def: NodeDef): RefSite[] {
  const sites: RefSite[] = [];
  if (isMapping(def.body.inputs)) {
    for (const [k, v] of Object.entries(def.body.inputs)) sites.push({ value: v, at: [...def.path, 'inputs', k], activate: false });
  }
  if (isMapping(def.body.activate) && 'when' in def.body.activate) {
    sites.push({ value: def.body.activate.when, at: [...def.path, 'activate', 'when'], activate: true });
  }
  return sites;
}

function checkReferences(def: NodeDef, model: FlowModel, names: Set<string>, aggregation: Set<string>, sink: ProblemSink): void {
  const name = def.name ?? '';
  const isAgg = isAggregation(def.body);
  for (const site of refSites(def)) {
    const ref = parseReference(site.value);
    if (!ref) continue;
    if (ref.kind === 'flow-input') {
      if (!(ref.name in model.inputs)) sink.error('InputReferenceNotFound', msg.inputReferenceNotFound(name, ref.name), site.at);
      continue;
    }
    if (!names.has(ref.node)) {
      sink.error('NodeReferenceNotFound', msg.nodeReferenceNotFound(name, ref.node), site.at);
    } else if (!isAgg && aggregation.has(ref.node)) {
      sink.error('InvalidNodeReference', msg.nonAggregateReferencesAggregate(name, ref.node), site.at);
    } else if (isAgg && site.activate && !aggregation.has(ref.node)) {
      sink.error('InvalidNodeReference', msg.aggregateActivateReferencesNonAggregate(name, ref.node), site.at);
    }
  }
}

/**
 * prompt flow's topological pick (FlowValidator._ensure_nodes_order): the nodes it cannot order
 * are named, sorted, in one message; the message is placed on each node that lies on a cycle.
 */
function checkCycles(model: FlowModel, names: Set<string>, sink: ProblemSink): void {
  const deps = new Map<string, string[]>();
  const where = new Map<string, NodeDef>();
  for (const n of model.nodes) if (n.name !== undefined && !where.has(n.name)) where.set(n.name, n);
  for (const def of model.effective) {
    if (def.name === undefined || deps.has(def.name)) continue;
    const d = new Set<string>();
    for (const site of refSites(def)) {
      const ref = parseReference(site.value);
      if (ref?.kind === 'node' && names.has(ref.node)) d.add(ref.node);
    }
    deps.set(def.name, [...d]);
  }
  const remaining = unorderable(deps);
  if (remaining.length === 0) return;
  const message = msg.circularDependency(remaining.sort(pySort));
  const cyclic = cyclicNodes(deps);
  for (const n of remaining) {
    const def = where.get(n);
    if (def && cyclic.has(n)) sink.error('NodeCircularDependency', message, [...def.path, 'name']);
  }
}

/** Kahn's algorithm: the nodes left once every node whose dependencies are met is taken. */
function unorderable(deps: Map<string, string[]>): string[] {
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [n, d] of deps) {
    waiting.set(n, d.length);
    for (const x of d) {
      const list = dependents.get(x);
      if (list) list.push(n);
      else dependents.set(x, [n]);
    }
  }
  const ready = [...deps.keys()].filter((n) => waiting.get(n) === 0);
  while (ready.length) {
    const n = ready.pop() as string;
    for (const m of dependents.get(n) ?? []) {
      const left = (waiting.get(m) as number) - 1;
      waiting.set(m, left);
      if (left === 0) ready.push(m);
    }
  }
  return [...deps.keys()].filter((n) => (waiting.get(n) as number) > 0);
}

/** Nodes in a strongly connected component with a cycle (Tarjan, iterative so no stack overflow). */
function cyclicNodes(deps: Map<string, string[]>): Set<string> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result = new Set<string>();
  let counter = 0;
  for (const root of deps.keys()) {
    if (index.has(root)) continue;
    const work: Array<{ n: string; i: number }> = [{ n: root, i: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const frame = work[work.length - 1];
      const edges = deps.get(frame.n) ?? [];
      if (frame.i < edges.length) {
        const m = edges[frame.i++];
        if (!index.has(m)) {
          index.set(m, counter);
          low.set(m, counter++);
          stack.push(m);
          onStack.add(m);
          work.push({ n: m, i: 0 });
        } else if (onStack.has(m)) {
          low.set(frame.n, Math.min(low.get(frame.n) as number, index.get(m) as number));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].n;
        low.set(parent, Math.min(low.get(parent) as number, low.get(frame.n) as number));
      }
      if (low.get(frame.n) === index.get(frame.n)) {
        const scc: string[] = [];
        let m: string;
        do {
          m = stack.pop() as string;
          onStack.delete(m);
          scc.push(m);
        } while (m !== frame.n);
        if (scc.length > 1 || edges.includes(frame.n)) scc.forEach((x) => result.add(x));
      }
    }
  }
  return result;
}

/** Python sorts strings by code point, not by UTF-16 unit or locale. */
function pySort(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0) as number);
  const y = [...b].map((c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function checkOutputs(model: FlowModel, names: Set<string>, aggregation: Set<string>, sink: ProblemSink): void {
  for (const [out, def] of Object.entries(model.outputs)) {
    if (!isMapping(def)) continue;
    const at = ['outputs', out];
    const reference = def.reference;
    if (reference === undefined || reference === '') {
      sink.error(
        'EmptyOutputReference',
        msg.emptyOutputReference(out),
        reference === undefined ? at : [...at, 'reference'],
        reference === undefined ? 'key' : 'value',
      );
      continue;
    }
    if (reference === null) {
      // prompt flow accepts a null reference (the output is always None), so this only warns
      sink.warning('EmptyOutputReference', msg.emptyOutputReference(out), [...at, 'reference'], 'key');
      continue;
    }
    const ref = parseReference(reference);
    if (!ref) continue;
    if (ref.kind === 'flow-input') {
      if (!(ref.name in model.inputs))
        sink.error('OutputReferenceNotFound', msg.outputReferencesMissingInput(out, ref.name), [...at, 'reference']);
    } else if (!names.has(ref.node)) {
      sink.error('OutputReferenceNotFound', msg.outputReferencesMissingNode(out, ref.node), [...at, 'reference']);
    } else if (aggregation.has(ref.node)) {
      sink.warning('OutputReferencesAggregation', msg.outputReferencesAggregation(out, ref.node), [...at, 'reference']);
    }
  }
}
