import * as path from 'path';
import * as vscode from 'vscode';
import { kindOfFileName } from '../../core/flow/flowKind';
import type { RuntimeEvent } from '../../core/runtime/protocol';
import type { RunRecord } from '../../core/runs/runService';
import type { Ctx } from '../ctx';
import { withLongWork } from '../feedback';
import { resolveFlow, type FlowArg } from '../flowIndex';
import { openSessionPanel } from '../panelBridge';
import { parseInputValue } from '../../shared/inputValue';
import { tokensText, type TokenUsage } from '../../shared/trace';
import { pickBatchTarget } from './batchTargets';
import type { CommandDeps } from './commandDeps';

function inputsOf(flowPath: string): Promise<Record<string, { type?: string; default?: unknown }>> {
  return import('../../core/flow/flowInputs').then(({ flowInputsOf }) => flowInputsOf(flowPath));
}

export function logRunEvent(ctx: Ctx, ev: RuntimeEvent): void {
  if (ev.event === 'nodeStart') {
    ctx.log.info(`[${ev.node}] started`);
  } else if (ev.event === 'nodeLog' && ev.text) {
    for (const line of ev.text.split(/\r?\n/)) if (line) ctx.log.info(`[${ev.node}] ${line}`);
  } else if (ev.event === 'outputStream' && ev.text) {
    ctx.log.info(`[${ev.node ?? ev.outputs.join(', ')}] output: ${ev.text}`);
  } else if (ev.event === 'nodeEnd') {
    ctx.log.info(`[${ev.node}] ${ev.status} in ${ev.durationMs} ms`);
  }
}

/** A run's or batch's token totals and trace warnings (an export that failed) in the output channel. */
function logTrace(ctx: Ctx, runId: string, record: { tokens?: TokenUsage; warnings?: string[] }): void {
  if (record.tokens) ctx.log.info(`Run ${runId} tokens: ${tokensText(record.tokens)}`);
  for (const w of record.warnings ?? []) ctx.log.warn(`Run ${runId}: ${w}`);
}

/** The flow's inputs, asked one by one with their defaults offered; undefined when the user backs out. */
export async function askInputs(flowDir: string, verb = 'Run'): Promise<Record<string, unknown> | undefined> {
  const inputs: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(await inputsOf(flowDir))) {
    const def = spec?.default;
    const text = await vscode.window.showInputBox({
      title: `${verb} ${path.basename(flowDir)}: input ${key}${spec?.type ? ` (${spec.type})` : ''}`,
      value: def === undefined ? '' : typeof def === 'string' ? def : JSON.stringify(def),
      ignoreFocusOut: true,
      validateInput: (t) => {
        const r = parseInputValue(spec?.type, t);
        return r.ok ? undefined : r.error;
      },
    });
    if (text === undefined) return undefined;
    const parsed = parseInputValue(spec?.type, text);
    // validateInput keeps the box open until the text parses
    if (!parsed.ok) return undefined;
    inputs[key] = parsed.value;
  }
  return inputs;
}

export async function runFlow(d: CommandDeps, arg: FlowArg): Promise<void> {
  const { ctx } = d;
  const flowDir = await resolveFlow(d.index, arg, 'Run which flow?', { flowFile: true });
  if (!flowDir) return;
  const inputs = await askInputs(flowDir);
  if (!inputs) return;
  const { runs } = await ctx.services();
  const { newRunId } = await import('../../core/runs/runId');
  const runId = newRunId(flowDir);
  ctx.log.info(`Run ${runId} of ${flowDir}`);
  ctx.log.show(true);
  const record = await withLongWork(ctx, `Running ${path.basename(flowDir)}`, true, async (w) =>
    runs.run(flowDir, {
      runId,
      inputs,
      connections: await ctx.connections.forRun(),
      signal: w.signal,
      onProgress: (r) => w.report(r),
      onEvent: (e) => {
        logRunEvent(ctx, e);
        if (e.event === 'nodeStart') w.report({ message: `node ${e.node}` });
      },
    }),
  );
  await reportRunRecord(d, record);
}

/** A finished run in the log and a notification: its outputs to open, or what went wrong. */
export async function reportRunRecord(d: CommandDeps, record: RunRecord, verb = 'Run'): Promise<void> {
  const { ctx } = d;
  const { runId, flowDir } = record;
  logTrace(ctx, runId, record);
  if (record.status === 'Completed') {
    ctx.log.info(`Run ${runId} completed: ${JSON.stringify(record.outputs)}`);
    const choice = await vscode.window.showInformationMessage(
      `${verb} of ${path.basename(flowDir)} completed in ${(record.durationMs / 1000).toFixed(1)} s.`,
      'Open Outputs',
      'Open Session Panel',
    );
    // the run's files in the results folder, its outputs first
    if (choice === 'Open Outputs' && record.files[0]) await vscode.window.showTextDocument(vscode.Uri.file(record.files[0]));
    if (choice === 'Open Session Panel') openSessionPanel(d.panel(), flowDir);
  } else {
    const msg = record.error ? `${record.error.code}: ${record.error.message}` : record.status;
    ctx.log.error(`Run ${runId} ${record.status}: ${msg}`);
    const choice = await vscode.window.showErrorMessage(
      `${verb} of ${path.basename(flowDir)} ${record.status === 'Canceled' ? 'was cancelled' : 'failed'}: ${msg}`,
      'Show Logs',
    );
    if (choice) ctx.log.show();
  }
}

export async function runBatch(d: CommandDeps, arg: FlowArg): Promise<void> {
  const { ctx } = d;
  const flowDir = await resolveFlow(d.index, arg, 'Run a batch of which flow?', { flowFile: true });
  if (!flowDir) return;
  const picked = await vscode.window.showOpenDialog({
    defaultUri: vscode.Uri.file(kindOfFileName(flowDir) ? path.dirname(flowDir) : flowDir),
    canSelectMany: false,
    filters: { 'JSON Lines': ['jsonl'] },
    openLabel: 'Run Batch',
    title: 'Data file: one JSON object per line',
  });
  if (!picked?.[0]) return;
  // the services first: where to run is offered for the engine they use
  const { runs, engine, manager } = await ctx.services();
  const target = await pickBatchTarget(ctx);
  if (!target) return;
  const { newRunId } = await import('../../core/runs/runId');
  const runId = newRunId(flowDir, 'batch');
  const dataFile = picked[0].fsPath;
  const connections = await ctx.connections.forRun();
  let done = 0;
  const record = await withLongWork(ctx, `Batch run of ${path.basename(flowDir)}`, true, async (w) => {
    const onLine = (l: { index: number; status: string }, where?: string) => {
      done++;
      w.report({ message: `${done} lines done (line ${l.index}: ${l.status}${where ? ` on ${where}` : ''})` });
    };
    if (target.kind === 'session')
      return runs.batch(flowDir, { runId, dataFile, connections, signal: w.signal, onProgress: (r) => w.report(r), onLine });
    if (target.kind === 'engines') {
      const [{ openEngines }, { runMultiEngineBatch }] = await Promise.all([
        import('../../core/batchEngines'),
        import('../../core/runs/multiEngineBatch'),
      ]);
      const engines = openEngines(target.engines, ctx.settings.session, process.env, ctx.settings.baseImageOverride, (l) =>
        ctx.log.debug(l),
      );
      try {
        return await runMultiEngineBatch(flowDir, engines, {
          runId,
          dataFile,
          connections,
          signal: w.signal,
          onProgress: (_e, r) => w.report(r),
          onEngine: (e) =>
            ctx.log.info(`Batch ${runId} [${e.engine}] ${e.kind}${e.lines ? ` ${e.lines} lines` : ''}${e.message ? `: ${e.message}` : ''}`),
          onLine,
        });
      } finally {
        for (const e of engines) e.manager.dispose();
      }
    }
    const { runOrchestratedBatch } = await import('../../core/runs/workers/orchestratedBatch');
    const session = ctx.settings.session;
    return runOrchestratedBatch(engine, manager, flowDir, {
      on: target.kind,
      replicas: target.replicas,
      // worker containers run on the engine that holds the image: nothing to push
      registry: target.kind === 'swarm' ? target.registry : '',
      coordinatorHost: target.coordinatorHost,
      dataFile,
      connections,
      signal: w.signal,
      labels: session.extraLabels,
      cpus: session.cpus,
      memoryMb: session.memoryMb,
      onProgress: (r) => w.report(r),
      log: (l) => ctx.log.info(l),
      onWorker: (e) =>
        ctx.log.info(
          `Batch on ${target.kind} [${e.worker}] ${e.kind}${e.lines ? ` ${e.lines} lines` : ''}${e.message ? `: ${e.message}` : ''}`,
        ),
      onLine,
    });
  });
  const where = target.kind === 'session' ? '' : ` on ${target.kind === 'engines' ? `${target.engines.length} engines` : target.kind}`;
  const error = record.error ? ` ${record.error.code}: ${record.error.message}` : '';
  ctx.log.info(`Batch ${record.runId}${where}: ${record.status}, ${record.summary}.${error}`);
  logTrace(ctx, record.runId, record);
  // the same words for every target: prompt flow's summary ("N out of M runs failed"), then what ended the batch
  const choice = await (record.status === 'Completed' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage)(
    `Batch run of ${path.basename(flowDir)}${where}: ${record.summary}.${error}`,
    'Open Output',
  );
  if (choice) await vscode.window.showTextDocument(vscode.Uri.file(record.outputFile));
}

/** Cancel Run: any run under way, whether a command or the session panel started it. */
export async function cancelRun(d: CommandDeps): Promise<void> {
  const runs = d.ctx.loadedServices()?.runs;
  const active = runs?.activeRuns() ?? [];
  if (!runs || active.length === 0) {
    void vscode.window.showInformationMessage('No run is in progress.');
    return;
  }
  const run =
    active.length === 1
      ? active[0]
      : (
          await vscode.window.showQuickPick(
            active.map((r) => ({ label: r.runId, description: path.basename(r.flowDir), run: r })),
            { placeHolder: 'Cancel which run?' },
          )
        )?.run;
  if (run) await runs.cancel(run.runId);
}

/** Keeps the flowsession.runActive context key (Cancel Run's `when`) on the runs of the current services. */
export function trackRunActive(ctx: Ctx): vscode.Disposable {
  const set = () =>
    void vscode.commands.executeCommand('setContext', 'flowsession.runActive', (ctx.loadedServices()?.runs.activeRuns().length ?? 0) > 0);
  set();
  return vscode.Disposable.from(ctx.onDidChangeActiveRuns(set), ctx.onDidChangeServices(set));
}
