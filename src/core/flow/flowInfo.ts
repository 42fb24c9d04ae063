import * as fs from 'fs';
import * as path from 'path';
import { ParsedFlow } from './dagDocument';
import { buildModel } from './flowModel';
import { checkSchema } from './schema';
import { checkIncludes, fsProbe, IncludeRef, resolveSource } from './sources';
import { ProblemSink } from './problemSink';
import { analyzeFlowDir } from './staticChecks';

/** The flow as plain JSON, as the runtime receives it; undefined when the YAML cannot be read. */
export function flowToJson(parsed: ParsedFlow): unknown {
  return parsed.problems.length > 0 ? undefined : (parsed.value ?? {});
}

export interface IncludeInfo extends IncludeRef {
  /** absolute path, symlinks resolved when it exists */
  absPath: string;
}

/**
 * `additional_includes`, each resolved against the flow folder. Relative paths may leave the
 * folder (prompt flow allows it); symlinks are resolved; missing ones have `info.kind === 'missing'`.
 */
export function resolveIncludes(flowDir: string, parsed: ParsedFlow): IncludeInfo[] {
  if (parsed.problems.length > 0) return [];
  const refs = checkIncludes(buildModel(parsed.value), fsProbe(flowDir));
  return refs.map((r) => ({ ...r, absPath: realOrResolved(path.resolve(flowDir, r.entry)) }));
}

export interface FlowSourceFile {
  node: string;
  /** as written in flow.dag.yaml */
  path: string;
  /** absolute, symlinks resolved; through an additional include when the file comes from one */
  absPath: string;
  exists: boolean;
}

/** The source files the nodes name (python code, prompt and llm templates), variants included. */
export function listFlowSources(flowDir: string, parsed: ParsedFlow): FlowSourceFile[] {
  if (parsed.problems.length > 0) return [];
  const model = buildModel(parsed.value);
  const probe = fsProbe(flowDir);
  // the sink is discarded: callers asking for files do not want problems
  const sources = checkSchema(model, new ProblemSink(parsed));
  const includes = checkIncludes(model, probe);
  const seen = new Set<string>();
  const out: FlowSourceFile[] = [];
  for (const s of sources) {
    const r = resolveSource(s.path, includes, probe);
    const absPath = realOrResolved(path.resolve(flowDir, r.location));
    if (seen.has(`${s.node}\0${absPath}`)) continue;
    seen.add(`${s.node}\0${absPath}`);
    out.push({ node: s.node, path: s.path, absPath, exists: r.info.kind === 'file' });
  }
  return out;
}

/** Reads the flow folder and lists its node source files. */
export async function flowSourceFiles(flowDir: string): Promise<FlowSourceFile[]> {
  const analysis = await analyzeFlowDir(flowDir);
  return listFlowSources(flowDir, analysis.parsed);
}

function realOrResolved(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}
