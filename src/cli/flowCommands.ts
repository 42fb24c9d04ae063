import * as fs from 'fs';
import type { FlowProblem } from '../core/flow/problem';
import { locateFlow } from '../core/flow/flowKind';
import { analyzeFlowDir } from '../core/flow/staticChecks';
import { findRunFolder } from '../core/runs/baseRun';
import { readConnections } from '../core/runs/connectionsFile';
import { connectionShapes } from '../core/runs/connectionTypes';
import type { BatchRecord, RunService } from '../core/runs/runService';
import type { LineEndEvent, RuntimeEvent } from '../core/runtime/protocol';
import { SessionManager } from '../core/session/sessionManager';
import type { FlowValidator } from '../core/validation/flowValidator';
import { fieldsFromFlow } from '../shared/inputsForm';
import { parseInputValue } from '../shared/inputValue';
import { tokensText, type TokenUsage } from '../shared/trace';
import { metricsText } from './metricsCommand';
import { CliOutput, EXIT, UsageError } from './output';
import { StreamPrinter } from './streamPrinter';

export interface FlowFlags {
  static?: boolean;
  inputs?: string[];
  'inputs-file'?: string;
  data?: string;
  'column-mapping'?: string[];
  workers?: string;
  /** connection files or folders of them; the option may repeat */
  connections?: string[];
  variant?: string[];
  run?: string;
  node?: string;
  init?: string[];
}

const VARIANT_SELECTOR = /^\$\{\s*([A-Za-z_][\w-]*)\.[\w-]+\s*\}$/;

/** Each `--variant '${node.variant_id}'`, as prompt flow takes it, in the order given. */
export function variantFlags(flags: FlowFlags): string[] {
  for (const v of flags.variant ?? [])
    if (!VARIANT_SELECTOR.test(v)) throw new UsageError(`--variant takes '\${<node>.<variant id>}', not '${v}'`);
  return flags.variant ?? [];
}

/** A run's variants: one per node (several nodes may each get theirs). */
export function variantFlag(flags: FlowFlags): string | string[] | undefined {
  const all = variantFlags(flags);
  const nodes = all.map((v) => VARIANT_SELECTOR.exec(v)![1]);
  const twice = nodes.find((n, i) => nodes.indexOf(n) !== i);
  if (twice) throw new UsageError(`--variant names node '${twice}' twice: a run takes one variant per node (batch runs each one)`);
  return all.length > 1 ? all : all[0];
}

export function progressTo(out: CliOutput) {
  return (r: Parameters<typeof SessionManager.describeProgress>[0]) => {
    const line = SessionManager.describeProgress(r);
    if (line) out.progress(line);
  };
}

function problemLine(p: FlowProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.severity} ${p.code}: ${p.message}`;
}

/** `flowsession validate <flow-dir> [--static] [--json]` */
export async function runValidate(
  validator: FlowValidator,
  out: CliOutput,
  flowDir: string | undefined,
  flags: FlowFlags,
): Promise<number> {
  if (!flowDir) throw new UsageError('validate needs a flow folder');
  // validation checks a folder's definition files; an entry stands for a flow only in run and batch
  if (/^[\w.]+:\w+$/.test(flowDir) && !fs.existsSync(flowDir) && locateFlow(flowDir).entry)
    throw new UsageError(`validate takes a flow folder or file, not the entry ${flowDir}; run it with run or batch`);
  const report = await validator.validate(flowDir, {
    session: flags.static ? 'never' : 'start',
    onProgress: progressTo(out),
    ...(flags.connections?.length ? { connections: connectionShapes(readConnections(flags.connections)) } : {}),
  });
  const failed = report.problems.some((p) => p.severity === 'error');
  const doc = {
    result: failed ? 'Failed' : 'Succeeded',
    errors: report.problems.map(({ code, message, file, line, column, endLine, endColumn, severity }) => ({
      code,
      message,
      file,
      line,
      column,
      endLine,
      endColumn,
      severity,
    })),
  };
  const human = report.problems.length
    ? report.problems.map(problemLine).join('\n')
    : `${flowDir}: no problems${report.sessionChecked ? '' : ' (static checks only)'}`;
  out.result(doc, human);
  return failed ? EXIT.failed : EXIT.ok;
}

/** name=value pairs, the value as text: everything after the first `=`. */
export function parsePairs(pairs: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} takes name=value, not '${pair}'`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * `--inputs name=value` pairs, each value read by the type the flow declares for that input, as the
 * panel's form and the Run Flow… input boxes read it. Names the flow does not declare keep their text.
 */
export async function typedInputs(flowDir: string, pairs: string[] | undefined): Promise<Record<string, unknown>> {
  const texts = parsePairs(pairs, '--inputs');
  if (Object.keys(texts).length === 0) return {};
  // a flex flow's or a prompty's inputs are typed by its signature or front matter, which the session reads
  if (locateFlow(flowDir).kind !== 'dag') return texts;
  const fields = fieldsFromFlow((await analyzeFlowDir(flowDir)).parsed.value);
  const out: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(texts)) {
    const r = parseInputValue(fields.find((f) => f.name === name)?.type, text);
    if (!r.ok) throw new UsageError(`--inputs ${name}=${text.slice(0, 40)}: ${r.error}`);
    out[name] = r.value;
  }
  return out;
}

/**
 * `--init k=v` pairs and `--init init.json` files (a JSON object, as `pf flow test --init` takes), merged in order:
 * a flex class entry's `__init__` arguments.
 */
export function initFlag(values: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of values ?? []) {
    if (!v.includes('=') && /\.json$/i.test(v)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(fs.readFileSync(v, 'utf8'));
      } catch (e) {
        throw new UsageError(`--init ${v}: ${(e as Error).message}`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`--init ${v}: not a JSON object`);
      Object.assign(out, parsed);
    } else Object.assign(out, parsePairs([v], '--init'));
  }
  return out;
}

/** Runs `work` with a signal that Ctrl-C aborts (the run or batch is cancelled in its session). */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** The flags every batch takes, checked: the data file, the column mapping, the workers and connections. */
export function batchFlags(flowDir: string | undefined, flags: FlowFlags) {
  if (!flowDir) throw new UsageError('batch needs a flow folder');
  if (!flags.data) throw new UsageError('batch needs --data <file.jsonl>');
  const workers = flags.workers ? Number(flags.workers) : undefined;
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 64))
    throw new UsageError('--workers takes a whole number from 1 to 64');
  return {
    flowDir,
    dataFile: flags.data,
    columnMapping: parsePairs(flags['column-mapping'], '--column-mapping'),
    workers,
    connections: readConnections(flags.connections ?? []),
    init: initFlag(flags.init),
    ...(flags.run ? { baseRun: findRunFolder(flags.run, { flowDir }) } : {}),
  };
}

/**
 * A batch per `--variant` given (prompt flow makes one run per variant), or one batch with the default variants.
 * `one` runs a batch; the results come back in the order of the flags, each with the variant that made it.
 */
export async function batchPerVariant<R extends BatchRecord>(
  flags: FlowFlags,
  out: CliOutput,
  one: (variant: string | undefined, onLine: (e: LineEndEvent, where?: string) => void) => Promise<R>,
): Promise<{ variant?: string; record: R }[]> {
  const variants = variantFlags(flags);
  if (variants.length <= 1) return [{ variant: variants[0], record: await one(variants[0], lineProgressTo(out)) }];
  const results: { variant?: string; record: R }[] = [];
  for (const variant of variants) {
    out.progress(`variant ${variant}: batch starts`);
    const progress = lineProgressTo(out);
    const record = await one(variant, (e, where) => progress(e, where ? `${variant} ${where}` : variant));
    out.progress(`variant ${variant}: ${record.summary}`);
    results.push({ variant, record });
  }
  return results;
}

/** What a batch's metrics print as, under its summary ('' when it logged none). */
export function metricsSection(record: Pick<BatchRecord, 'metrics'>): string {
  return Object.keys(record.metrics ?? {}).length ? `\nmetrics:\n${metricsText(record.metrics)}` : '';
}

/**
 * What a batch prints: its summary, what ended it when it failed as a whole (the flow did not load: no line ran),
 * metrics and output file (each run's, for several variants).
 */
export function batchResultText(record: BatchRecord, variant?: string): string {
  const error = record.error ? `\n${record.error.code}: ${record.error.message}` : '';
  return `${variant ? `variant ${variant}: ` : ''}${record.summary}${error}${metricsSection(record)}\noutput: ${record.outputFile}`;
}

function nodeEventLine(e: RuntimeEvent): string | undefined {
  switch (e.event) {
    case 'nodeStart':
      return `[${e.node}] started`;
    case 'nodeLog':
      return e.text
        .trimEnd()
        .split('\n')
        .map((l) => `[${e.node}] ${l}`)
        .join('\n');
    case 'nodeEnd':
      return `[${e.node}] ${e.status} in ${e.durationMs} ms${e.error ? `: ${e.error.message}` : ''}`;
    default:
      return undefined;
  }
}

/** The token totals and the warnings of a run or batch, on stderr (stdout keeps the result alone). */
export function traceNotes(out: CliOutput, record: { tokens?: TokenUsage; warnings?: string[] }): void {
  if (record.tokens) out.progress(`tokens: ${tokensText(record.tokens)}`);
  for (const w of record.warnings ?? []) out.progress(`warning: ${w}`);
}

/** `flowsession run <flow-dir> [--inputs k=v …] [--inputs-file f.json] [--connections f.yaml] [--json]` */
export async function runRun(runs: RunService, out: CliOutput, flowDir: string | undefined, flags: FlowFlags): Promise<number> {
  if (!flowDir) throw new UsageError('run needs a flow folder');
  let inputs: Record<string, unknown> = {};
  if (flags['inputs-file']) {
    try {
      inputs = JSON.parse(fs.readFileSync(flags['inputs-file'], 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`--inputs-file ${flags['inputs-file']}: ${(e as Error).message}`);
    }
  }
  Object.assign(inputs, await typedInputs(flowDir, flags.inputs));
  const connections = readConnections(flags.connections ?? []);
  // streamed outputs print on stdout as they come; with --json stdout holds the one document only
  const stream = out.json ? undefined : new StreamPrinter((t) => out.stream(t));
  return interruptible(async (signal) => {
    const record = await runs.run(flowDir, {
      inputs,
      connections,
      variant: variantFlag(flags),
      init: initFlag(flags.init),
      ...(flags.node ? { node: flags.node } : {}),
      signal,
      onProgress: progressTo(out),
      onEvent: (e) => {
        if (stream?.event(e) || e.event === 'outputStream') return;
        const line = nodeEventLine(e);
        if (!line) return;
        // a streamed answer without its newline yet would share a terminal line with the progress line
        if (stream?.wrote) stream.finish();
        out.progress(line);
      },
    });
    stream?.finish();
    traceNotes(out, record);
    const tokens = record.tokens ? { tokens: record.tokens } : {};
    if (record.status !== 'Completed') {
      const where = record.error?.node ? ` in node '${record.error.node}'` : '';
      out.progress(`Run ${record.status.toLowerCase()}${where}: ${record.error?.code ?? ''} ${record.error?.message ?? ''}`.trim());
      out.result(
        { runId: record.runId, status: record.status, error: record.error ?? null, outputs: record.outputs, ...tokens },
        `Run ${record.runId} ${record.status}`,
      );
      return EXIT.failed;
    }
    if (flags.node) {
      // as `pf flow test --node`: the node's output alone
      const output = record.outputs?.[flags.node] ?? null;
      out.result(
        out.json ? { runId: record.runId, status: record.status, node: flags.node, output, ...tokens } : output,
        JSON.stringify(output, null, 2),
      );
      return EXIT.ok;
    }
    out.result(
      out.json ? { runId: record.runId, status: record.status, outputs: record.outputs, ...tokens } : record.outputs,
      JSON.stringify(record.outputs, null, 2),
    );
    return EXIT.ok;
  });
}

/** Each failed line as it ends, and a count every 100 lines, on stderr; `where` names the engine of a line. */
export function lineProgressTo(out: CliOutput): (e: LineEndEvent, where?: string) => void {
  let done = 0;
  let failed = 0;
  return (e, where) => {
    done++;
    if (e.status !== 'Completed') {
      failed++;
      out.progress(`line ${e.index}${where ? ` [${where}]` : ''}: ${e.error?.code ?? 'Failed'}: ${e.error?.message ?? ''}`);
    }
    if (done % 100 === 0) out.progress(`${done} lines done, ${failed} failed`);
  };
}

/** A batch's result as `--json` prints it. */
export function batchResultJson(record: BatchRecord): Record<string, unknown> {
  return {
    runId: record.runId,
    status: record.status,
    total: record.total,
    completed: record.completed,
    failed: record.failed,
    summary: record.summary,
    output: record.outputFile,
    aggregation: record.aggregation?.outputs ?? null,
    metrics: record.metrics ?? {},
    variants: record.variants ?? {},
    ...(record.tokens ? { tokens: record.tokens } : {}),
    error: record.error ?? null,
  };
}

/** `flowsession batch <flow-dir> --data f.jsonl [--column-mapping k='${data.c}' …] [--workers N] [--json]` */
export async function runBatch(runs: RunService, out: CliOutput, flowDir: string | undefined, flags: FlowFlags): Promise<number> {
  const { flowDir: dir, ...batch } = batchFlags(flowDir, flags);
  return interruptible(async (signal) => {
    const results = await batchPerVariant(flags, out, (variant, onLine) =>
      runs.batch(dir, { ...batch, ...(variant ? { variant } : {}), signal, onProgress: progressTo(out), onLine }),
    );
    for (const r of results) traceNotes(out, r.record);
    printBatches(out, results, batchResultJson);
    return results.every((r) => r.record.status === 'Completed') ? EXIT.ok : EXIT.failed;
  });
}

/** One batch as before; several (one per variant) as `{runs: [...]}`, each saying its variant. */
export function printBatches<R extends BatchRecord>(
  out: CliOutput,
  results: { variant?: string; record: R }[],
  asJson: (r: R) => Record<string, unknown>,
  text: (r: R, variant?: string) => string = batchResultText,
): void {
  if (results.length === 1) {
    out.result(asJson(results[0].record), text(results[0].record));
    return;
  }
  out.result(
    { runs: results.map(({ variant, record }) => ({ variant, ...asJson(record) })) },
    results.map(({ variant, record }) => text(record, variant)).join('\n\n'),
  );
}
