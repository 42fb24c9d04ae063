import * as fs from 'fs';
import * as path from 'path';
import { FlowSessionError } from '../errors';
import { resolveFlowDir } from '../flow/environment';
import { locateFlow } from '../flow/flowKind';
import { hasAggregation } from './aggregationLists';
import { EngineBatchScheduler, type BatchEngine, type EngineBatchOptions, type EngineShare } from './engineBatchScheduler';
import { baseRunLines } from './baseRun';
import { readFlowPayload } from './flowPayload';
import { firstError, kindFields, type BatchRecord } from './runService';
import { connectionSecrets, redactSpans } from './otlp';
import type { FlowKindFields } from '../runtime/protocol';
import { BatchOutput, batchOutputFile, newRunId, writeBatchSummary, writeMetrics } from './runStore';
import { keepTrace, tracingWanted, type TracingOptions } from './traceKeeper';

export type { BatchEngine, EngineBatchEvent, EngineShare } from './engineBatchScheduler';

export interface MultiEngineBatchOptions extends EngineBatchOptions {
  dataFile: string;
  runId?: string;
  /** an evaluation batch: the folder of the base run whose lines `${run.outputs.x}` and `${run.inputs.x}` read */
  baseRun?: string;
  /** where the batch's spans go besides trace.json */
  tracing?: TracingOptions;
  /** a flex class entry's `__init__` arguments (`--init`) */
  init?: Record<string, unknown>;
  /** where the `${env:NAME}` values of .prompty files are read (sent per request, as connection secrets are); default process.env */
  env?: NodeJS.ProcessEnv;
}

export interface MultiEngineBatchRecord extends BatchRecord {
  engines: EngineShare[];
  /** lines run again on another engine after their engine failed */
  requeued: number;
  aggregationEngine?: string;
}

function summaryOf(total: number, failed: number): string {
  return failed ? `${failed} out of ${total} runs failed` : `All ${total} runs completed`;
}

/** A flow of any kind as a batch run elsewhere (other engines, workers) sends it with each request. */
export interface BatchFlow {
  /** the flow as the runtime takes it */
  flow: Record<string, unknown>;
  /** what a flex flow or a prompty adds to each request: kind and file, .prompty files, `${env:…}` values, `init` */
  kindFields: FlowKindFields;
  /** what runs once after the lines: aggregation nodes, a flex class entry's `__aggregate__` if it has one, or nothing */
  afterLines: 'nodes' | 'entry' | 'none';
}

/**
 * The flow a path names (a flow folder, a flow file or a .prompty), read for a batch: its definition, its kind's
 * request fields (the `${env:NAME}` values read from `env`), or the static error that stops the batch before any line.
 */
export async function flowForBatch(
  flowPath: string,
  env: NodeJS.ProcessEnv = process.env,
  init?: Record<string, unknown>,
): Promise<BatchFlow | { error: { code: string; message: string } }> {
  const target = locateFlow(flowPath);
  const payload = await readFlowPayload(target, env, init);
  const staticError = firstError(payload.problems);
  if (staticError || payload.flow === undefined)
    return { error: staticError ?? { code: 'FlowDefinitionError', message: `${target.file} could not be read.` } };
  // a flex class may have __aggregate__ (known once a line ran); a DAG flow says it with aggregation nodes
  const afterLines = target.kind === 'flex' ? 'entry' : hasAggregation(payload.flow) ? 'nodes' : 'none';
  return { flow: payload.flow, kindFields: kindFields(payload, init), afterLines };
}

/** What the record of a batch that stopped before any line ran says. */
export function notStarted(error: { code: string; message: string }, started: number) {
  return {
    status: 'Failed' as const,
    total: 0,
    completed: 0,
    failed: 0,
    summary: error.message,
    aggregation: null,
    error,
    durationMs: Date.now() - started,
    files: [] as string[],
  };
}

/** What the record of a batch that ran says: its counts, status and summary line, its error if any. */
export function ranFields(total: number, failed: number, error: { code: string; message: string } | undefined, started: number) {
  return {
    status: error ? ('Failed' as const) : ('Completed' as const),
    total,
    completed: total - failed,
    failed,
    summary: summaryOf(total, failed),
    ...(error ? { error } : {}),
    durationMs: Date.now() - started,
  };
}

/** Writes the batch's summary.json and metrics.json beside its output.jsonl, and lists the three in `files`. */
export async function keepBatchRecord<T extends BatchRecord>(record: T): Promise<T> {
  const { files: _files, ...summary } = record;
  record.files = [
    record.outputFile,
    await writeBatchSummary(record.flowDir, record.runId, summary),
    await writeMetrics(record.flowDir, record.runId, record.metrics ?? {}),
  ];
  return record;
}

/** The absolute path of a batch's data file, refused at once when it is not a file. */
export function requireDataFile(dataFile: string): string {
  const file = path.resolve(dataFile);
  if (!fs.existsSync(file) || !fs.statSync(file).isFile())
    throw new FlowSessionError('bad-input', `Data file not found: ${file}`, 'Give a .jsonl file with one JSON object per line.');
  return file;
}

/** The non-blank lines of a .jsonl file, as the runtime counts them (index = line_number). */
export function dataLines(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/**
 * The lines an evaluation batch runs, as prompt flow runs them: those its base run has outputs for (a line the base
 * run failed is not evaluated), each with the base run's line and its own line number in the data file.
 */
async function evaluationLines(all: string[], baseRun: string): Promise<{ lines: string[]; lineNumbers: number[]; baseLines: string[] }> {
  const base = new Map<number, string>();
  for (const text of (await baseRunLines(baseRun)).split('\n')) {
    if (!text) continue;
    const row = JSON.parse(text) as { line_number: number; outputs?: unknown };
    if (row.outputs !== undefined) base.set(row.line_number, text);
  }
  const kept = all.map((_l, i) => i).filter((i) => base.has(i));
  return { lines: kept.map((i) => all[i]), lineNumbers: kept, baseLines: kept.map((i) => base.get(i)!) };
}

/**
 * A batch run spread over sessions on several engines, as one run: the scheduler hands the lines out and
 * merges the results into one output.jsonl in input order, and the run store keeps it with its summary.
 */
export async function runMultiEngineBatch(
  flowDir: string,
  engines: BatchEngine[],
  options: MultiEngineBatchOptions,
): Promise<MultiEngineBatchRecord> {
  if (engines.length === 0)
    throw new FlowSessionError('bad-input', 'A batch across engines needs at least one engine.', 'Name the engines with --engines a,b.');
  const started = Date.now();
  const dataFile = requireDataFile(options.dataFile);
  // a flow folder, a flow file or a .prompty: each engine's session is the session of the flow's folder
  const dir = resolveFlowDir(flowDir);
  const runId = options.runId ?? newRunId(dir, 'batch');
  const outputFile = batchOutputFile(dir, runId);

  const analyzed = await flowForBatch(flowDir, options.env ?? process.env, options.init);
  if ('error' in analyzed) {
    return {
      runId,
      flowDir: dir,
      outputFile,
      engines: engines.map((e) => ({ name: e.name, lines: 0, failedLines: 0, chunks: 0, requeued: 0 })),
      requeued: 0,
      ...notStarted(analyzed.error, started),
    };
  }
  const { flow: flowJson, kindFields: fields, afterLines } = analyzed;
  const lines = options.baseRun ? await evaluationLines(dataLines(dataFile), options.baseRun) : { lines: dataLines(dataFile) };
  const output = new BatchOutput(dir, runId);
  const plan = {
    runId,
    flowDir: dir,
    flow: flowJson,
    kindFields: fields,
    aggregation: afterLines,
    ...lines,
    engines,
    output,
  };
  const scheduler = new EngineBatchScheduler(plan, { ...options, trace: tracingWanted(options.trace, options.env ?? process.env) });
  let outcome;
  try {
    outcome = await scheduler.run();
  } catch (e) {
    await output.abort();
    throw e;
  }
  await output.finish();
  const { total, failed, aggregation, aggregationEngine, metrics, error } = outcome;
  const record: MultiEngineBatchRecord = {
    runId,
    flowDir: dir,
    outputFile,
    engines: scheduler.shares,
    requeued: scheduler.requeued,
    ...ranFields(total, failed, error, started),
    aggregation,
    metrics: metrics ?? {},
    files: [],
    aggregationEngine,
  };
  const spans = redactSpans(scheduler.spans.spans, connectionSecrets(options.connections));
  const traced = await keepTrace(dir, runId, spans, options.tracing ?? {}, scheduler.spans.dropped);
  if (traced.tokens) record.tokens = traced.tokens;
  if (traced.warnings.length) record.warnings = traced.warnings;
  const { files: _files, ...summary } = record;
  record.files = [
    outputFile,
    await writeBatchSummary(dir, runId, summary),
    await writeMetrics(dir, runId, record.metrics ?? {}),
    ...(traced.file ? [traced.file] : []),
  ];
  return record;
}
