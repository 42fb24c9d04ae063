/**
 * The run history of a flow, read from the run folders the run store writes. One definition for every
 * view of it: a run folder is a real folder (never a link) with a run id for a name; it is a batch when it
 * holds a batch's files; it is dated by its start time when flow.detail.json records one (as prompt flow
 * orders its runs), else by the folder's modification time; newest first.
 */
import type { Dirent } from 'fs';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { BATCH_FILES, isPlainFileName, isRunId, METRICS_FILE, RUN_FILES, runsFolder } from './runStore';

export interface RunHistoryEntry {
  runId: string;
  /** the run's folder */
  dir: string;
  kind: 'run' | 'batch';
  /** Completed, Failed, Canceled as recorded, or Unknown */
  status: string;
  /** ISO time: the start time, or the folder's modification time */
  time: string;
  /** the plain files in the folder, sorted */
  files: string[];
  /** what the run logged with log_metric (metrics.json), when it did */
  metrics?: Record<string, number>;
  /** node -> the variant that ran, when the flow has variants */
  variants?: Record<string, string>;
}

/** flow.detail.json holds node outputs and can be large; past this only the folder time is used */
const MAX_DETAIL_BYTES = 4 * 1024 * 1024;
const MAX_FILES_PER_RUN = 50;

/** summaries by folder, valid while the folder's modification time stays the same */
const cache = new Map<string, { mtimeMs: number; entry: RunHistoryEntry }>();

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

/** A JSON object's entries whose values pass `keep` (a hostile or hand-edited file brings nothing else). */
function entriesOf<T>(v: unknown, keep: (x: unknown) => x is T, max = 200): Record<string, T> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, T> = {};
  for (const [k, x] of Object.entries(v).slice(0, max)) if (keep(x) && k.length <= 256) out[k] = x;
  return Object.keys(out).length ? out : undefined;
}

const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isShortString = (x: unknown): x is string => typeof x === 'string' && x.length <= 256;

async function summarize(dir: string, runId: string, mtime: Date): Promise<RunHistoryEntry> {
  const files = (await fsp.readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isFile() && isPlainFileName(d.name))
    .map((d) => d.name)
    .sort()
    .slice(0, MAX_FILES_PER_RUN);
  const batch = Object.values(BATCH_FILES).some((name) => files.includes(name));
  let status = 'Unknown';
  let time = mtime.toISOString();
  let variants: Record<string, string> | undefined;
  if (batch) {
    const summary = await readJson(path.join(dir, BATCH_FILES.summary));
    const st = field(summary, 'status');
    if (typeof st === 'string') status = st;
    variants = entriesOf(field(summary, 'variants'), isShortString);
  } else {
    const detail = await readJson(path.join(dir, RUN_FILES.detail));
    variants = entriesOf(field(detail, 'flow_runs', 0, 'variants'), isShortString);
    const st = field(detail, 'flow_runs', 0, 'status');
    const start = field(detail, 'flow_runs', 0, 'start_time');
    if (typeof st === 'string') status = st;
    else if (files.includes(RUN_FILES.output)) status = 'Completed';
    if (typeof start === 'string' && !Number.isNaN(Date.parse(start))) time = new Date(start).toISOString();
  }
  const metrics = files.includes(METRICS_FILE) ? entriesOf(await readJson(path.join(dir, METRICS_FILE)), isNumber) : undefined;
  return {
    runId,
    dir,
    kind: batch ? 'batch' : 'run',
    status,
    time,
    files,
    ...(metrics ? { metrics } : {}),
    ...(variants ? { variants } : {}),
  };
}

/**
 * The latest runs of a flow, newest first; a flow that never ran has none. The `limit` most recently
 * changed folders are read (reading every flow.detail.json of a long history would be slow), then
 * ordered by their time.
 */
export async function readRunHistory(flowDir: string, limit = 50): Promise<RunHistoryEntry[]> {
  const root = runsFolder(flowDir);
  let entries: Dirent[];
  try {
    entries = await fsp.readdir(root, { withFileTypes: true });
  } catch {
    return [];
  }
  const dirs: { runId: string; dir: string; mtime: Date }[] = [];
  for (const d of entries) {
    // symlinked folders are skipped: the history only shows what the run store wrote
    if (!d.isDirectory() || !isRunId(d.name)) continue;
    const dir = path.join(root, d.name);
    try {
      dirs.push({ runId: d.name, dir, mtime: (await fsp.stat(dir)).mtime });
    } catch {
      // removed while listing
    }
  }
  dirs.sort((a, b) => b.mtime.getTime() - a.mtime.getTime() || b.runId.localeCompare(a.runId));
  const out: RunHistoryEntry[] = [];
  for (const { runId, dir, mtime } of dirs.slice(0, limit)) {
    const hit = cache.get(dir);
    if (hit && hit.mtimeMs === mtime.getTime()) {
      out.push(hit.entry);
      continue;
    }
    try {
      const entry = await summarize(dir, runId, mtime);
      cache.set(dir, { mtimeMs: mtime.getTime(), entry });
      out.push(entry);
    } catch {
      // removed while listing
    }
  }
  return out.sort((a, b) => b.time.localeCompare(a.time) || b.runId.localeCompare(a.runId));
}

/** The file to open for a run of the history: its outputs first, else what it has. */
export function mainFileOf(entry: RunHistoryEntry): string | undefined {
  const preferred: string[] = Object.values(entry.kind === 'batch' ? BATCH_FILES : RUN_FILES);
  const name = preferred.find((f) => entry.files.includes(f));
  return name === undefined ? undefined : path.join(entry.dir, name);
}
