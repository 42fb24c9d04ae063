import * as fs from 'fs';
import * as path from 'path';
import { NOT_FLOW_SOURCES } from '../core/fs/flowArchive';

export const FLOW_FILE = 'flow.dag.yaml';
/** Saved files that make a flow re-validate. */
export const VALIDATED_EXTENSIONS = new Set(['.py', '.jinja2', '.j2', '.jinja']);

/**
 * The flow folder a file belongs to: the nearest folder up (the file's own folder first) that holds
 * flow.dag.yaml, not going above `stopAt` (a workspace folder) when given.
 */
export function flowDirOf(file: string, stopAt?: string, exists: (p: string) => boolean = fs.existsSync): string | undefined {
  let dir = path.basename(file) === FLOW_FILE ? path.dirname(file) : path.dirname(file);
  const stop = stopAt ? path.resolve(stopAt) : undefined;
  while (true) {
    if (exists(path.join(dir, FLOW_FILE))) return dir;
    if (stop && path.resolve(dir) === stop) return undefined;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Whether saving `file` should re-validate its flow, and its path relative to the flow folder. */
export function savedFileOfFlow(file: string, flowDir: string): string | undefined {
  const rel = path.relative(flowDir, file);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const posix = rel.split(path.sep).join('/');
  if (posix.startsWith('.promptflow/') || posix.split('/').includes('__pycache__')) return undefined;
  if (posix === FLOW_FILE) return posix;
  return VALIDATED_EXTENSIONS.has(path.extname(file).toLowerCase()) ? posix : undefined;
}

/**
 * The flows at a workspace folder's root and one level below, found with a few synchronous stats: what
 * activation can know before the workspace file search (seconds on a busy machine) ends.
 */
export function shallowFlowDirs(root: string): string[] {
  const found: string[] = [];
  if (fs.existsSync(path.join(root, FLOW_FILE))) found.push(root);
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const e of entries) {
    if (e.isDirectory() && !NOT_FLOW_SOURCES.has(e.name) && fs.existsSync(path.join(root, e.name, FLOW_FILE)))
      found.push(path.join(root, e.name));
  }
  return found;
}
