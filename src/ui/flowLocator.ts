import * as fs from 'fs';
import * as path from 'path';
import { definitionFileIn, FLOW_DEFINITION_FILES, isFlowFolder, kindOfFileName } from '../core/flow/flowKind';
import { NOT_FLOW_SOURCES } from '../core/flow/notFlowSources';

/** The glob of every file that makes a flow: the DAG and flex definitions (both spellings) and .prompty files. */
export const FLOW_FILES_GLOB = `**/{${[...FLOW_DEFINITION_FILES, '*.prompty'].join(',')}}`;
/** Saved files that make a flow re-validate. */
export const VALIDATED_EXTENSIONS = new Set(['.py', '.jinja2', '.j2', '.jinja', '.prompty']);

/**
 * The flow folder a file belongs to: the nearest folder up (the file's own folder first) that holds a flow definition
 * (flow.dag.yaml, flow.flex.yaml and their .yml forms), else the folder of a .prompty file or the nearest folder with
 * .prompty files; not going above `stopAt` (a workspace folder) when given.
 */
export function flowDirOf(file: string, stopAt?: string, exists: (p: string) => boolean = fs.existsSync): string | undefined {
  let dir = path.dirname(file);
  const stop = stopAt ? path.resolve(stopAt) : undefined;
  let promptyDir: string | undefined = kindOfFileName(file) === 'prompty' ? dir : undefined;
  while (true) {
    if (definitionFileIn(dir, exists)) return dir;
    if (promptyDir === undefined && exists === fs.existsSync && isFlowFolder(dir)) promptyDir = dir;
    if (stop && path.resolve(dir) === stop) return promptyDir;
    const parent = path.dirname(dir);
    if (parent === dir) return promptyDir;
    dir = parent;
  }
}

/** Whether saving `file` should re-validate its flow, and its path relative to the flow folder. */
export function savedFileOfFlow(file: string, flowDir: string): string | undefined {
  const rel = path.relative(flowDir, file);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const posix = rel.split(path.sep).join('/');
  if (posix.startsWith('.promptflow/') || posix.split('/').includes('__pycache__')) return undefined;
  if (FLOW_DEFINITION_FILES.includes(posix)) return posix;
  return VALIDATED_EXTENSIONS.has(path.extname(file).toLowerCase()) ? posix : undefined;
}

/**
 * The flows at a workspace folder's root and one level below, found with a few synchronous stats: what
 * activation can know before the workspace file search (seconds on a busy machine) ends.
 */
export function shallowFlowDirs(root: string): string[] {
  const found: string[] = [];
  if (isFlowFolder(root)) found.push(root);
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const e of entries) {
    if (e.isDirectory() && !NOT_FLOW_SOURCES.has(e.name) && isFlowFolder(path.join(root, e.name))) found.push(path.join(root, e.name));
  }
  return found;
}
