/**
 * The one owner of a flow's results layout, as prompt flow leaves it:
 *
 *   <flow>/.promptflow/flow.output.json, flow.detail.json, flow.log   the latest run
 *   <flow>/.promptflow/runs/<runId>/                                   one folder per run or batch
 *       flow.output.json, flow.detail.json, flow.log                   a run
 *       output.jsonl, inputs.jsonl, summary.json                       a batch
 *       metrics.json                                                   what log_metric recorded
 *       images/                                                        the images of its inputs and outputs
 *       trace.json                                                     the spans, OTLP/JSON (run and batch)
 *
 * Every file is written so that a reader sees the old content or the new, never a partial one.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { LineEndEvent, RunMetrics, RunResult } from '../runtime/protocol';
import type { TraceSpan } from '../../shared/trace';
import { fromOtlp, toOtlp, traceResource, type TraceResource } from './otlp';
import { FILE_NAME } from '../../shared/protocol';
import { RUN_ID } from '../../shared/runId';
import { writeFileAtomic, writeJsonAtomic } from '../fs/atomicWrite';
import { loadImages, storeImages } from './imageFiles';
import { OrderedLineWriter } from './orderedLineWriter';
import { BatchTraceFile } from './batchTraceFile';

export { newRunId } from './runId';

const RESULTS_FOLDER = '.promptflow';
const RUNS_FOLDER = 'runs';

/** The files of a run, in the order they are worth opening. */
export const RUN_FILES = { output: 'flow.output.json', detail: 'flow.detail.json', log: 'flow.log' } as const;
/** The files of a batch, in the order they are worth opening. */
export const BATCH_FILES = { output: 'output.jsonl', summary: 'summary.json', inputs: 'inputs.jsonl' } as const;
/** prompt flow's metrics of a run or batch: what its aggregation nodes logged with log_metric */
export const METRICS_FILE = 'metrics.json';
/** the run's spans in OpenTelemetry's OTLP/JSON shape */
export const TRACE_FILE = 'trace.json';

/** `<flow>/.promptflow`: prompt flow's results folder. */
export function resultsFolder(flowDir: string): string {
  return path.join(flowDir, RESULTS_FOLDER);
}

/** `<flow>/.promptflow/runs`: the history, one folder per run. */
export function runsFolder(flowDir: string): string {
  return path.join(resultsFolder(flowDir), RUNS_FOLDER);
}

/** The glob, relative to the flow folder, of every file of the history (for file watchers). */
export const RUN_HISTORY_GLOB = `${RESULTS_FOLDER}/${RUNS_FOLDER}/**`;

export function runFolder(flowDir: string, runId: string): string {
  return path.join(runsFolder(flowDir), runId);
}

/** Where a batch's output.jsonl ends up (it exists once the batch finished). */
export function batchOutputFile(flowDir: string, runId: string): string {
  return path.join(runFolder(flowDir, runId), BATCH_FILES.output);
}

/**
 * Writes prompt flow's files of a run (flow.output.json when it has outputs, flow.detail.json, flow.log) to
 * the results folder, where prompt flow's tools look for the latest run, and a copy into the run's own
 * folder for the history. Returns the files of the results folder.
 */
export async function writeRunResult(flowDir: string, runId: string, result: RunResult): Promise<string[]> {
  const latest = resultsFolder(flowDir);
  const own = runFolder(flowDir, runId);
  // images are stored once, in the run's folder; each copy of a file refers to them from where it lies
  const filesFor = (folder: string): [string, string][] => {
    const files: [string, string][] = [];
    if (result.outputs) files.push([RUN_FILES.output, `${JSON.stringify(storeImages(result.outputs, own, folder), null, 2)}\n`]);
    files.push(
      [RUN_FILES.detail, `${JSON.stringify(storeImages(result.detail, own, folder), null, 2)}\n`],
      [RUN_FILES.log, result.log ?? ''],
    );
    return files;
  };
  const files = filesFor(latest);
  await Promise.all([
    ...files.map(([name, content]) => writeFileAtomic(path.join(latest, name), content)),
    ...filesFor(own).map(([name, content]) => writeFileAtomic(path.join(own, name), content)),
  ]);
  const written = files.map(([name]) => path.join(latest, name));
  if (result.metrics && Object.keys(result.metrics).length) written.push(await writeMetrics(flowDir, runId, result.metrics));
  return written;
}

/** `<node>.node.detail.json` and `<node>.node.log`: the files of a single node run, as prompt flow names them. */
function nodeRunFiles(node: string) {
  const safe = node.replace(/[^A-Za-z0-9_-]/g, '_');
  return { detail: `${safe}.node.detail.json`, log: `${safe}.node.log` };
}

/**
 * Writes a single node run to the results folder and its run folder, leaving the latest flow run's files as they
 * are (a later node run reads its upstream outputs there). Returns the files of the results folder.
 */
export async function writeNodeRunResult(flowDir: string, runId: string, node: string, result: RunResult): Promise<string[]> {
  const names = nodeRunFiles(node);
  const own = runFolder(flowDir, runId);
  const filesFor = (folder: string): [string, string][] => [
    [names.detail, `${JSON.stringify(storeImages(result.detail, own, folder), null, 2)}\n`],
    [names.log, result.log ?? ''],
  ];
  await Promise.all([
    ...filesFor(resultsFolder(flowDir)).map(([name, content]) => writeFileAtomic(path.join(resultsFolder(flowDir), name), content)),
    ...filesFor(own).map(([name, content]) => writeFileAtomic(path.join(own, name), content)),
  ]);
  return [names.detail, names.log].map((name) => path.join(resultsFolder(flowDir), name));
}

/** The outputs of the nodes that completed in the latest flow run (its flow.detail.json); {} when there is none. */
export async function latestNodeOutputs(flowDir: string): Promise<Record<string, unknown>> {
  let detail: { node_runs?: Array<{ node?: unknown; status?: unknown; output?: unknown }> };
  try {
    detail = JSON.parse(await fsp.readFile(path.join(resultsFolder(flowDir), RUN_FILES.detail), 'utf8')) as typeof detail;
  } catch {
    return {};
  }
  const out: Record<string, unknown> = {};
  for (const r of Array.isArray(detail?.node_runs) ? detail.node_runs : [])
    if (r && typeof r.node === 'string' && r.status === 'Completed') out[r.node] = r.output;
  // images the run stored as files go back to the session as images
  return loadImages(out, resultsFolder(flowDir), runsFolder(flowDir)) as Record<string, unknown>;
}

/** Writes a run's metrics.json into its run folder; returns its path. */
export async function writeMetrics(flowDir: string, runId: string, metrics: RunMetrics): Promise<string> {
  const file = path.join(runFolder(flowDir, runId), METRICS_FILE);
  await writeJsonAtomic(file, metrics);
  return file;
}

/** The metrics of the run in `runDir` ({} when it logged none), as `pf run show-metrics` prints them. */
export async function readMetrics(runDir: string): Promise<RunMetrics> {
  try {
    const parsed = JSON.parse(await fsp.readFile(path.join(runDir, METRICS_FILE), 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as RunMetrics) : {};
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
}

/** spans up to which trace.json is indented for a reader's eyes */
const INDENTED_TRACE_SPANS = 2000;

/** Writes a run's or batch's trace.json (OTLP/JSON) into its run folder; returns its path. */
export async function writeTrace(flowDir: string, runId: string, spans: readonly TraceSpan[], resource: TraceResource): Promise<string> {
  const file = path.join(runFolder(flowDir, runId), TRACE_FILE);
  const doc = toOtlp(spans, resource);
  // a large batch's trace (tens of thousands of spans) goes without indentation: less than half the bytes and time
  if (spans.length > INDENTED_TRACE_SPANS) await writeFileAtomic(file, `${JSON.stringify(doc)}\n`);
  else await writeJsonAtomic(file, doc);
  return file;
}

/** trace.json of the run in `runDir` holds spans larger than this only for huge batches: those are not read back */
const MAX_TRACE_BYTES = 32 * 1024 * 1024;

/** The spans of the run in `runDir` ([] when it has no trace.json, it is larger than `maxBytes` or it cannot be read). */
export async function readTrace(runDir: string, maxBytes = MAX_TRACE_BYTES): Promise<TraceSpan[]> {
  try {
    const file = path.join(runDir, TRACE_FILE);
    const st = await fsp.lstat(file);
    if (!st.isFile() || st.size > maxBytes) return [];
    return fromOtlp(JSON.parse(await fsp.readFile(file, 'utf8')) as unknown);
  } catch {
    return [];
  }
}

/** Writes a batch's summary.json; returns its path. */
export async function writeBatchSummary(flowDir: string, runId: string, summary: object): Promise<string> {
  const file = path.join(runFolder(flowDir, runId), BATCH_FILES.summary);
  await writeJsonAtomic(file, summary);
  return file;
}

/** A batch's trace.json, written as its lines' spans come (see BatchTraceFile). */
export function batchTraceFile(flowDir: string, runId: string, secrets: readonly string[]): BatchTraceFile {
  return new BatchTraceFile(path.join(runFolder(flowDir, runId), TRACE_FILE), secrets, traceResource(flowDir, runId));
}

/**
 * A batch's output.jsonl while the batch runs: one line per input line, in input order, whatever order
 * the results come in. The file appears whole when the batch finishes, never half written.
 */
export class BatchOutput {
  readonly file: string;
  private readonly dir: string;
  private readonly writer: OrderedLineWriter;
  /** each line's flow inputs, which an evaluation batch of this one reads as `${run.inputs.x}` */
  private readonly inputs: OrderedLineWriter;

  constructor(flowDir: string, runId: string) {
    this.file = batchOutputFile(flowDir, runId);
    this.dir = runFolder(flowDir, runId);
    this.writer = new OrderedLineWriter(this.file);
    this.inputs = new OrderedLineWriter(path.join(runFolder(flowDir, runId), BATCH_FILES.inputs));
  }

  /** prompt flow's line: the outputs with the line number, or the error */
  add(line: LineEndEvent): void {
    this.writer.add(
      line.index,
      JSON.stringify(
        line.status === 'Completed'
          ? { line_number: line.index, ...(storeImages(line.output, this.dir, this.dir) as object) }
          : { line_number: line.index, error: line.error },
      ),
    );
    // every line, with or without inputs, so the writer holds no line back waiting for a missing one
    this.inputs.add(line.index, JSON.stringify({ line_number: line.index, ...(storeImages(line.inputs, this.dir, this.dir) as object) }));
  }

  async finish(): Promise<void> {
    await Promise.all([this.writer.finish(), this.inputs.finish()]);
  }

  async abort(): Promise<void> {
    await Promise.all([this.writer.abort(), this.inputs.abort()]);
  }
}

/** A run id that can only name a folder directly inside the runs folder. */
export function isRunId(runId: string): boolean {
  return RUN_ID.test(runId) && !runId.includes('..');
}

/** A file name that can only name a file directly inside a run folder. */
export function isPlainFileName(file: string): boolean {
  return FILE_NAME.test(file) && !file.includes('..');
}

/**
 * The absolute path of a file of a run, when runId names a run folder (not a link) of this flow and
 * file a regular file (not a link) in it; undefined otherwise. The names are checked again here so
 * this is safe whatever the caller validated.
 */
export async function resolveRunFile(flowDir: string, runId: string, file: string): Promise<string | undefined> {
  if (!isRunId(runId) || !isPlainFileName(file)) return undefined;
  const root = runsFolder(flowDir);
  const dir = path.join(root, runId);
  const target = path.join(dir, file);
  if (path.dirname(target) !== dir || path.dirname(dir) !== root) return undefined;
  try {
    const [d, f, realRoot, realFlow] = await Promise.all([fsp.lstat(dir), fsp.lstat(target), fsp.realpath(root), fsp.realpath(flowDir)]);
    if (!d.isDirectory() || !f.isFile()) return undefined;
    // .promptflow or runs linked somewhere else is not this flow's history
    if (realRoot !== runsFolder(realFlow)) return undefined;
    const names = await fsp.readdir(dir);
    return names.includes(file) ? target : undefined;
  } catch {
    return undefined;
  }
}
