/**
 * Where a node of a flow is written: its python tool at the @tool function, or its template. The session
 * panel's graph opens it when a node is clicked. The path comes from flow.dag.yaml (untrusted): only a regular
 * file inside the flow folder is given back.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';

export type NodeSource = { file: string; line: number } | { problem: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The source block of a node: its own, or its default variant's (a node with use_variants has none itself). */
function sourceBlock(flow: Obj, node: Obj, name: string): Obj | undefined {
  if (isObj(node.source)) return node.source;
  const nv = isObj(flow.node_variants) ? flow.node_variants[name] : undefined;
  if (!isObj(nv) || !isObj(nv.variants)) return undefined;
  const id = typeof nv.default_variant_id === 'string' ? nv.default_variant_id : Object.keys(nv.variants)[0];
  const variant = nv.variants[id];
  return isObj(variant) && isObj(variant.node) && isObj(variant.node.source) ? variant.node.source : undefined;
}

/** The 1-based line of the function decorated with @tool (the first def when none is), or 1. */
export function toolFunctionLine(code: string): number {
  const lines = code.split(/\r?\n/);
  let firstDef = 0;
  let decorated = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^\s*@(\w+\.)*tool\b/.test(l)) decorated = true;
    else if (/^\s*(async\s+)?def\s+\w+/.test(l)) {
      if (decorated) return i + 1;
      if (!firstDef) firstDef = i + 1;
    } else if (decorated && l.trim() && !l.trim().startsWith('@') && !l.trim().startsWith('#')) decorated = false;
  }
  return firstDef || 1;
}

/** The file and line to open for node `name` of the flow (the parsed flow.dag.yaml) in `flowDir`. */
export async function nodeSource(flowDir: string, flow: unknown, name: string): Promise<NodeSource> {
  if (!isObj(flow) || !Array.isArray(flow.nodes)) return { problem: 'flow.dag.yaml has no nodes.' };
  const node = flow.nodes.find((n): n is Obj => isObj(n) && n.name === name);
  if (!node) return { problem: `The flow has no node named '${name}'.` };
  const source = sourceBlock(flow, node, name);
  const rel = source && typeof source.path === 'string' ? source.path : undefined;
  if (!rel) {
    const tool = source && typeof source.tool === 'string' ? ` (${source.tool})` : '';
    return { problem: `Node '${name}' runs a package tool${tool}: its source is not in the flow folder.` };
  }
  const root = await fsp.realpath(flowDir);
  const file = path.resolve(root, rel);
  let real: string;
  try {
    real = await fsp.realpath(file);
  } catch {
    return { problem: `The source of node '${name}' (${rel}) does not exist.` };
  }
  const inside = path.relative(root, real);
  if (inside.startsWith('..') || path.isAbsolute(inside))
    return { problem: `The source of node '${name}' (${rel}) is outside the flow folder.` };
  const st = await fsp.stat(real);
  if (!st.isFile()) return { problem: `The source of node '${name}' (${rel}) is not a file.` };
  const line = real.endsWith('.py') && st.size < 4 * 1024 * 1024 ? toolFunctionLine(await fsp.readFile(real, 'utf8')) : 1;
  return { file: real, line };
}
