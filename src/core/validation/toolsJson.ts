import * as path from 'path';
import type { FlowToolsJson } from '../runtime/protocol';
import { readJsonIfPresent, writeJsonIfChanged } from '../fs/atomicWrite';

export function toolsJsonPath(flowDir: string): string {
  return path.join(flowDir, '.promptflow', 'flow.tools.json');
}

/**
 * Records the session's tool metadata as prompt flow's `.promptflow/flow.tools.json`. A check narrowed to the
 * saved sources answers for those only: the entries of the other sources the flow still uses are kept.
 */
export async function recordToolsJson(
  flowDir: string,
  flow: Record<string, unknown>,
  tools: FlowToolsJson,
  checkedSources: string[] | undefined,
): Promise<void> {
  const file = toolsJsonPath(flowDir);
  const previous = checkedSources ? await readJsonIfPresent<Partial<FlowToolsJson>>(file) : undefined;
  await writeJsonIfChanged(file, mergeToolsJson(previous, tools, flow, checkedSources));
}

export function mergeToolsJson(
  previous: Partial<FlowToolsJson> | undefined,
  tools: FlowToolsJson,
  flow: Record<string, unknown>,
  checkedSources: string[] | undefined,
): FlowToolsJson {
  if (!checkedSources || !previous || typeof previous.code !== 'object' || previous.code === null) return tools;
  const checked = new Set(checkedSources.map(normalize));
  const used = sourcePaths(flow);
  const kept = Object.entries(previous.code).filter(([k]) => !checked.has(k) && used.has(k) && !(k in tools.code));
  const code = Object.fromEntries([...kept, ...Object.entries(tools.code)].sort(([a], [b]) => a.localeCompare(b)));
  return { code, package: tools.package };
}

/** Every `source.path` of the flow's nodes and node variants, as flow-relative paths. */
function sourcePaths(flow: Record<string, unknown>): Set<string> {
  const found = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (typeof v !== 'object' || v === null) return;
    const source = (v as Record<string, unknown>).source;
    if (typeof source === 'object' && source !== null && typeof (source as Record<string, unknown>).path === 'string')
      found.add(normalize((source as Record<string, string>).path));
    Object.values(v).forEach(visit);
  };
  visit(flow.nodes);
  visit(flow.node_variants);
  return found;
}

function normalize(p: string): string {
  let s = p.replace(/\\/g, '/');
  while (s.startsWith('./')) s = s.slice(2);
  return path.posix.normalize(s);
}
