/**
 * The run history of a flow as RunService leaves it on disk: one folder per run under
 * <flow>/.promptflow/runs/<runId>/. Also the one place that turns a (runId, file) pair from the
 * webview into a path, only when both name something that is really there.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { FILE_NAME, type RunSummary } from '../../shared/protocol';
import { RUN_ID } from '../../shared/runId';

const RUNS = path.join('.promptflow', 'runs');
/** flow.detail.json holds node outputs and can be large; past this only the folder time is used */
const MAX_DETAIL_BYTES = 4 * 1024 * 1024;
const MAX_FILES_PER_RUN = 50;

interface Cached {
  mtimeMs: number;
  summary: RunSummary;
}
const cache = new Map<string, Cached>();

function runsDir(flowDir: string): string {
  return path.join(flowDir, RUNS);
}

async function readJson(file: string): Promise<unknown> {
  try {
    const st = await fsp.lstat(file);
    if (!st.isFile() || st.size > MAX_DETAIL_BYTES) return undefined;
    return JSON.parse(await fsp.readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function field(v: unknown, ...keys: (string | number)[]): unknown {
  let cur = v;
  for (const k of keys) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

async function summarize(dir: string, runId: string, mtime: Date): Promise<RunSummary> {
  const files = (await fsp.readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isFile() && FILE_NAME.test(d.name))
    .map((d) => d.name)
    .sort()
    .slice(0, MAX_FILES_PER_RUN);
  const batch = files.includes('summary.json') || files.includes('output.jsonl');
  let status = 'Unknown';
  let time = mtime.toISOString();
  if (batch) {
    const s = await readJson(path.join(dir, 'summary.json'));
    const st = field(s, 'status');
    if (typeof st === 'string') status = st;
  } else {
    const d = await readJson(path.join(dir, 'flow.detail.json'));
    const st = field(d, 'flow_runs', 0, 'status');
    const start = field(d, 'flow_runs', 0, 'start_time');
    if (typeof st === 'string') status = st;
    else if (files.includes('flow.output.json')) status = 'Completed';
    if (typeof start === 'string' && !Number.isNaN(Date.parse(start))) time = new Date(start).toISOString();
  }
  return { runId, kind: batch ? 'batch' : 'run', status, time, files };
}

/** The latest runs of a flow, newest first. A flow that never ran has none. */
export async function readRunHistory(flowDir: string, limit = 50): Promise<RunSummary[]> {
  const root = runsDir(flowDir);
  let entries: import('fs').Dirent[];
  try {
    entries = await fsp.readdir(root, { withFileTypes: true });
  } catch {
    return [];
  }
  const dirs: { runId: string; dir: string; mtime: Date }[] = [];
  for (const d of entries) {
    // symlinked folders are skipped: the history only shows what RunService wrote
    if (!d.isDirectory() || !RUN_ID.test(d.name)) continue;
    const dir = path.join(root, d.name);
    try {
      dirs.push({ runId: d.name, dir, mtime: (await fsp.stat(dir)).mtime });
    } catch {
      // removed while listing
    }
  }
  dirs.sort((a, b) => b.mtime.getTime() - a.mtime.getTime());
  const out: RunSummary[] = [];
  for (const { runId, dir, mtime } of dirs.slice(0, limit)) {
    const hit = cache.get(dir);
    if (hit && hit.mtimeMs === mtime.getTime()) {
      out.push(hit.summary);
      continue;
    }
    try {
      const summary = await summarize(dir, runId, mtime);
      cache.set(dir, { mtimeMs: mtime.getTime(), summary });
      out.push(summary);
    } catch {
      // removed while listing
    }
  }
  return out.sort((a, b) => b.time.localeCompare(a.time));
}

/**
 * The absolute path of a file of a run, when runId names a run folder (not a link) of this flow and
 * file a regular file (not a link) in it; undefined otherwise. The names are checked again here so
 * this is safe whatever the caller validated.
 */
export async function resolveRunFile(flowDir: string, runId: string, file: string): Promise<string | undefined> {
  if (!RUN_ID.test(runId) || runId.includes('..') || !FILE_NAME.test(file) || file.includes('..')) return undefined;
  const root = runsDir(flowDir);
  const dir = path.join(root, runId);
  const target = path.join(dir, file);
  if (path.dirname(target) !== dir || path.dirname(dir) !== root) return undefined;
  try {
    const [d, f, realRoot, realFlow] = await Promise.all([fsp.lstat(dir), fsp.lstat(target), fsp.realpath(root), fsp.realpath(flowDir)]);
    if (!d.isDirectory() || !f.isFile()) return undefined;
    // .promptflow or runs linked somewhere else is not this flow's history
    if (realRoot !== path.join(realFlow, RUNS)) return undefined;
    const names = await fsp.readdir(dir);
    return names.includes(file) ? target : undefined;
  } catch {
    return undefined;
  }
}
