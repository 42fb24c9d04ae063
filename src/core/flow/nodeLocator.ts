/**
 * Which node of flow.dag.yaml a place in the editor means, for "Run Node": the node whose entry (under `nodes`, or
 * under `node_variants.<node>`) holds a line, and the nodes whose source is a given file. Pure: text in, names out.
 */
import type { Node } from 'yaml';
import { yaml } from '../vendor';
import { parseFlowDocument, nodeRange, type ParsedFlow } from './dagDocument';
import { buildModel } from './flowModel';
import { normalizeRel } from './sources';

export interface NodeLines {
  name: string;
  /** 1-based lines of its entry under `nodes` */
  line: number;
  endLine: number;
  /** the lines of its entry under node_variants, when it has variants */
  variantLines?: { line: number; endLine: number };
}

function rangeOf(parsed: ParsedFlow, path: (string | number)[]): { line: number; endLine: number } | undefined {
  const node = parsed.doc?.getIn(path, true) as Node | undefined;
  if (!node || typeof node !== 'object' || !('range' in node) || !node.range) return undefined;
  const r = nodeRange(parsed, node);
  return { line: r.line, endLine: r.endLine };
}

/** The lines of `node_variants.<name>`, from its key (the cursor on `summarize:` means that node) to its end. */
function variantRange(parsed: ParsedFlow, name: string): { line: number; endLine: number } | undefined {
  const { isMap, isScalar } = yaml();
  const all = parsed.doc?.get('node_variants', true);
  if (!isMap(all)) return undefined;
  const pair = all.items.find((p) => isScalar(p.key) && p.key.value === name);
  const value = pair?.value as Node | null | undefined;
  if (!pair || !isScalar(pair.key) || !pair.key.range || !value || !value.range) return undefined;
  return { line: nodeRange(parsed, pair.key).line, endLine: nodeRange(parsed, value).endLine };
}

/** Every named node with the lines of its entry, in the order of the file; none when the text does not parse. */
export function nodeLines(text: string): NodeLines[] {
  const parsed = parseFlowDocument(text);
  if (parsed.problems.length || parsed.value === undefined) return [];
  const model = buildModel(parsed.value);
  const out: NodeLines[] = [];
  for (const n of model.nodes) {
    if (n.name === undefined || out.some((o) => o.name === n.name)) continue;
    const at = rangeOf(parsed, [...n.path] as (string | number)[]);
    if (!at) continue;
    const variantLines = n.body.use_variants === true ? variantRange(parsed, n.name) : undefined;
    out.push({ name: n.name, ...at, ...(variantLines ? { variantLines } : {}) });
  }
  return out;
}

/** The node whose entry holds the 1-based `line` (its own entry or its variants'), if any. */
export function nodeAtLine(text: string, line: number): string | undefined {
  const inside = (r: { line: number; endLine: number } | undefined) => !!r && r.line <= line && line <= r.endLine;
  return nodeLines(text).find((n) => inside(n) || inside(n.variantLines))?.name;
}

/** The nodes (a variant counts for its node) whose `source.path` is `relPath`, relative to the flow folder. */
export function nodesWithSource(text: string, relPath: string): string[] {
  const parsed = parseFlowDocument(text);
  if (parsed.problems.length || parsed.value === undefined) return [];
  const model = buildModel(parsed.value);
  const want = normalizeRel(relPath);
  const names = new Set<string>();
  for (const n of [...model.nodes, ...model.variants]) {
    const source = n.body.source as { path?: unknown } | undefined;
    if (n.name !== undefined && typeof source?.path === 'string' && normalizeRel(source.path) === want) names.add(n.name);
  }
  return [...names];
}
