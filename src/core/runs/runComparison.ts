/**
 * Reads runs of the history for the panel: side by side (inputs, outputs, metrics, durations and tokens, line by
 * line for batches) and one value of a run whole (a node's output, a flow output) to open in an editor. Everything
 * is read from the files the run store wrote; large files are streamed and values cut.
 */
import * as fs from 'fs';
import { promises as fsp } from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { COMPARE_LIMITS, type ComparedLine, type ComparedRun, type ComparisonView } from '../../shared/comparison';
import { traceTotals, type TraceSpan } from '../../shared/trace';
import { BATCH_FILES, isRunId, readMetrics, readTrace, RUN_FILES, runFolder, runsFolder } from './runStore';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** flow.detail.json and summary.json past this are not parsed (a run of huge node outputs) */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

async function readJson(file: string): Promise<unknown> {
  const st = await fsp.lstat(file);
  if (!st.isFile()) throw new Error(`${path.basename(file)} is not a file`);
  if (st.size > MAX_JSON_BYTES) throw new Error(`${path.basename(file)} is too large to compare (${Math.round(st.size / 1048576)} MB)`);
  return JSON.parse(await fsp.readFile(file, 'utf8')) as unknown;
}

/** A value small enough to show: itself, or a text preview ending in "… [cut]". */
export function cutValue(value: unknown, chars: number = COMPARE_LIMITS.valueChars): unknown {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined || text.length <= chars) return value;
  return `${text.slice(0, chars)}… [cut]`;
}

function cutRecord(v: unknown): Record<string, unknown> | undefined {
  if (!isObj(v)) return undefined;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cutValue(x)]));
}

function errorText(e: unknown): string | undefined {
  if (!e) return undefined;
  if (isObj(e) && typeof e.message === 'string') return e.message;
  return typeof e === 'string' ? e : JSON.stringify(e);
}

/** The first `limit` lines of a .jsonl, by line_number; reading stops there. */
async function jsonlLines(file: string, limit: number): Promise<{ lines: Map<number, Obj>; more: number }> {
  const lines = new Map<number, Obj>();
  let more = 0;
  try {
    await fsp.access(file);
  } catch {
    return { lines, more };
  }
  const rl = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const text of rl) {
    if (!text.trim()) continue;
    if (lines.size >= limit) {
      more++;
      continue;
    }
    try {
      const o = JSON.parse(text) as unknown;
      if (isObj(o) && typeof o.line_number === 'number') lines.set(o.line_number, o);
    } catch {
      // a broken line is left out of the comparison
    }
  }
  return { lines, more };
}

/** node -> variant, as a run's node spans record it (a single run's files say it nowhere else) */
function variantsOf(spans: readonly TraceSpan[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of spans) {
    const node = s.attributes['flowsession.node.name'];
    const variant = s.attributes['flowsession.node.variant'];
    if (s.kind === 'node' && typeof node === 'string' && typeof variant === 'string') out[node] = variant;
  }
  return out;
}

async function compareRun(dir: string, runId: string): Promise<ComparedRun> {
  const names = await fsp.readdir(dir);
  const batch = Object.values(BATCH_FILES).some((f) => names.includes(f));
  const spans = await readTrace(dir);
  const tokens = spans.length ? traceTotals(spans).run : undefined;
  const metrics = await readMetrics(dir);
  const base = { runId, kind: batch ? ('batch' as const) : ('run' as const), metrics, ...(tokens ? { tokens } : {}) };
  if (!batch) {
    const detail = await readJson(path.join(dir, RUN_FILES.detail));
    const fr = isObj(detail) && Array.isArray(detail.flow_runs) && isObj(detail.flow_runs[0]) ? detail.flow_runs[0] : {};
    const duration =
      isObj(fr.system_metrics) && typeof fr.system_metrics.duration === 'number' ? fr.system_metrics.duration * 1000 : undefined;
    const status = typeof fr.status === 'string' ? fr.status : 'Unknown';
    const line: ComparedLine = {
      index: 0,
      status,
      inputs: cutRecord(fr.inputs),
      outputs: cutRecord(fr.output),
      ...(errorText(fr.error) ? { error: errorText(fr.error) } : {}),
    };
    return {
      ...base,
      status,
      ...(typeof fr.start_time === 'string' ? { time: fr.start_time } : {}),
      ...(duration !== undefined ? { durationMs: Math.round(duration) } : {}),
      variants: variantsOf(spans),
      lines: [line],
      linesOmitted: 0,
    };
  }
  const summary = names.includes(BATCH_FILES.summary) ? await readJson(path.join(dir, BATCH_FILES.summary)) : {};
  const s = isObj(summary) ? summary : {};
  const outputs = await jsonlLines(path.join(dir, BATCH_FILES.output), COMPARE_LIMITS.lines);
  const inputs = await jsonlLines(path.join(dir, BATCH_FILES.inputs), COMPARE_LIMITS.lines);
  const numbers = [...new Set([...outputs.lines.keys(), ...inputs.lines.keys()])].sort((a, b) => a - b).slice(0, COMPARE_LIMITS.lines);
  const lines = numbers.map((index): ComparedLine => {
    const { line_number: _o, error, ...out } = outputs.lines.get(index) ?? {};
    const { line_number: _i, ...inp } = inputs.lines.get(index) ?? {};
    return {
      index,
      status: error ? 'Failed' : outputs.lines.has(index) ? 'Completed' : 'Unknown',
      inputs: cutRecord(inp),
      ...(error ? { error: errorText(error) } : { outputs: cutRecord(out) }),
    };
  });
  const st = await fsp.stat(dir);
  return {
    ...base,
    status: typeof s.status === 'string' ? s.status : 'Unknown',
    time: st.mtime.toISOString(),
    ...(typeof s.durationMs === 'number' ? { durationMs: s.durationMs } : {}),
    variants: isObj(s.variants)
      ? (Object.fromEntries(Object.entries(s.variants).filter(([, v]) => typeof v === 'string')) as Record<string, string>)
      : {},
    lines,
    linesOmitted: Math.max(outputs.more, inputs.more),
  };
}

/** The chosen runs of a flow side by side; a run that cannot be read says why in its column. */
export async function compareRuns(flowDir: string, runIds: readonly string[]): Promise<ComparisonView> {
  const runs: ComparedRun[] = [];
  for (const runId of runIds.slice(0, COMPARE_LIMITS.maxRuns)) {
    const dir = runFolder(flowDir, runId);
    try {
      const st = isRunId(runId) && path.dirname(dir) === runsFolder(flowDir) ? await fsp.lstat(dir).catch(() => undefined) : undefined;
      if (!st?.isDirectory()) throw new Error('no such run in this flow');
      runs.push(await compareRun(dir, runId));
    } catch (e) {
      runs.push({
        runId,
        kind: 'run',
        status: 'Unknown',
        metrics: {},
        variants: {},
        lines: [],
        linesOmitted: 0,
        problem: (e as Error).message,
      });
    }
  }
  return { runs };
}

/**
 * A value of a run whole, as text for an editor: a node's output (flow.detail.json) or a flow output
 * (flow.output.json, else the detail). Strings as they are, anything else as indented JSON.
 */
export async function runValue(
  flowDir: string,
  runId: string,
  kind: 'node' | 'output',
  name: string,
): Promise<{ text: string; json: boolean } | undefined> {
  if (!isRunId(runId)) return undefined;
  const dir = runFolder(flowDir, runId);
  const asText = (v: unknown) =>
    typeof v === 'string' ? { text: v, json: false } : { text: JSON.stringify(v, null, 2) ?? 'null', json: true };
  const own = (o: unknown, key: string): o is Obj => isObj(o) && Object.prototype.hasOwnProperty.call(o, key);
  try {
    if (kind === 'output') {
      const outputs = await readJson(path.join(dir, RUN_FILES.output)).catch(() => undefined);
      if (own(outputs, name)) return asText(outputs[name]);
    }
    const detail = await readJson(path.join(dir, RUN_FILES.detail));
    if (!isObj(detail)) return undefined;
    if (kind === 'node') {
      const runs = Array.isArray(detail.node_runs) ? detail.node_runs : [];
      const found = runs.find((r): r is Obj => isObj(r) && r.node === name);
      return found && 'output' in found ? asText(found.output) : undefined;
    }
    const fr = Array.isArray(detail.flow_runs) ? detail.flow_runs[0] : undefined;
    return isObj(fr) && own(fr.output, name) ? asText((fr.output as Obj)[name]) : undefined;
  } catch {
    return undefined;
  }
}
