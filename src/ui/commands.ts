import * as fs from 'fs';
import { selectEngine } from './enginePicker';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ProgressReport } from '../core/docker/progress';
import { FlowSessionError } from '../core/errors';
import { parseInputValue } from '../shared/inputValue';
import type { RuntimeEvent } from '../core/runtime/protocol';
import type { SessionStatus } from '../core/session/state';
import type { ActiveFlow } from './activeFlow';
import { checkApiBase, checkConnectionName, type ConnectionKind } from './connectionSpec';
import type { Ctx } from './ctx';
import type { OnSaveValidation } from './diagnostics/onSaveValidation';
import { resolveFlow, type FlowArg, type FlowIndex } from './flowIndex';
import { showError, withLongWork } from './feedback';
import { registerImageCommands } from './imageCommands';
import type { PanelServices } from './panel/panelServices';
import { openSessionPanel } from './panelBridge';
import { isRunning } from './stateView';
import { SessionTerminal } from './terminal';
import type { CustomImagesTree } from './tree/customImagesTree';
import type { SessionsTree } from './tree/sessionsTree';

export interface CommandDeps {
  ctx: Ctx;
  index: FlowIndex;
  sessions: SessionsTree;
  customImages: CustomImagesTree;
  validation: OnSaveValidation;
  active: ActiveFlow;
  panel: () => PanelServices;
  /** session work started by a command, for the panel's progress */
  progress: vscode.EventEmitter<{ flowDir: string; report: ProgressReport }>;
}

interface ActiveRun {
  runId: string;
  flowDir: string;
  abort: AbortController;
}

const activeRuns = new Map<string, ActiveRun>();

function setRunContext(): void {
  void vscode.commands.executeCommand('setContext', 'flowsession.runActive', activeRuns.size > 0);
}

/** Registers a command whose errors become notifications (message, remedy, Retry/Open Settings), never stacks. */
export function register(d: CommandDeps, id: string, fn: (...args: never[]) => unknown): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await (fn as (...a: unknown[]) => unknown)(...args);
    } catch (e) {
      void showError(d.ctx, e, () => vscode.commands.executeCommand(id, ...args));
      return undefined;
    }
  });
}

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const { ctx, index } = d;
  const flowOf = (arg: FlowArg, purpose?: string) => resolveFlow(index, arg, purpose);
  const name = (flowDir: string) => path.basename(flowDir);
  const sessionWork = (flowDir: string, title: string, fn: (onProgress: (r: ProgressReport) => void) => Promise<SessionStatus | string>) =>
    withLongWork(ctx, title, false, (w) =>
      fn((r) => {
        w.report(r);
        d.progress.fire({ flowDir, report: r });
      }),
    );

  const startSession = async (arg: FlowArg): Promise<boolean> => {
    const flowDir = await flowOf(arg, 'Start the session of which flow?');
    if (!flowDir) return false;
    const { manager } = await ctx.services();
    const status = (await sessionWork(flowDir, `Starting the session of ${name(flowDir)}`, (p) => manager.up(flowDir, p))) as SessionStatus;
    ctx.log.info(`Session of ${flowDir} is ${status.state} (${status.containerName ?? ''})`);
    if (status.outdated) {
      void vscode.window
        .showWarningMessage(`The session of ${name(flowDir)} does not match the flow's environment any more.`, 'Reset Session')
        .then((c) => {
          if (c) void vscode.commands.executeCommand('flowsession.resetSession', flowDir);
        });
    }
    void d.validation.validateNow(flowDir);
    return isRunning(status.state);
  };

  const disposables: vscode.Disposable[] = [
    register(d, 'flowsession.showLogs', () => ctx.log.show()),
    register(d, 'flowsession.retryEngine', async () => {
      const ok = await ctx.retry();
      if (!ok) void showError(ctx, ctx.engineError ?? new FlowSessionError('engine-error', 'The engine is still unreachable.', ''));
      d.sessions.refresh();
      d.customImages.refresh();
    }),
    register(d, 'flowsession.showEngineError', () =>
      showError(
        ctx,
        ctx.engineError ??
          new FlowSessionError('engine-error', 'The Docker engine has not been asked yet.', 'Open the Sessions view or run a command.'),
      ),
    ),
    register(d, 'flowsession.refresh', () => {
      void index.refresh();
      d.sessions.refresh();
      d.customImages.refresh();
    }),
    register(d, 'flowsession.startSession', startSession),
    register(d, 'flowsession.stopSession', async (arg: FlowArg) => {
      const flowDir = await flowOf(arg, 'Stop the session of which flow?');
      if (!flowDir) return;
      const { manager } = await ctx.services();
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Stopping the session of ${name(flowDir)}` },
        () => manager.stop(flowDir),
      );
    }),
    register(d, 'flowsession.restartSession', async (arg: FlowArg) => {
      const flowDir = await flowOf(arg);
      if (!flowDir) return;
      const { manager } = await ctx.services();
      await sessionWork(flowDir, `Restarting the session of ${name(flowDir)}`, (p) => manager.restart(flowDir, p));
    }),
    register(d, 'flowsession.resetSession', async (arg: FlowArg) => {
      const flowDir = await flowOf(arg, 'Reset the session of which flow?');
      if (!flowDir) return;
      const { manager } = await ctx.services();
      const answer = await vscode.window.showWarningMessage(
        `Reset the session of ${name(flowDir)}?`,
        {
          modal: true,
          detail: "It is recreated with the flow's current environment (base image, requirements). Packages installed by hand are removed.",
        },
        'Reset',
      );
      if (answer !== 'Reset') return;
      await sessionWork(flowDir, `Resetting the session of ${name(flowDir)}`, (p) => manager.reset(flowDir, p));
      void d.validation.validateNow(flowDir);
    }),
    register(d, 'flowsession.deleteSession', async (arg: FlowArg) => {
      const flowDir = await flowOf(arg, 'Delete the session of which flow?');
      if (!flowDir) return;
      const { manager } = await ctx.services();
      const answer = await vscode.window.showWarningMessage(
        `Delete the session of ${name(flowDir)}?`,
        { modal: true, detail: 'The container is removed; the flow folder is not touched. Packages installed by hand are lost.' },
        'Delete',
      );
      if (answer !== 'Delete') return;
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Deleting the session of ${name(flowDir)}` },
        () => manager.remove(flowDir),
      );
    }),
    register(d, 'flowsession.installPackages', async (arg: FlowArg) => {
      const flowDir = await flowOf(arg, 'Install packages into the session of which flow?');
      if (!flowDir) return;
      const input = await vscode.window.showInputBox({
        title: `Install packages into the session of ${name(flowDir)}`,
        prompt:
          'pip requirement specifiers, separated by spaces (they last until the session is reset; put them in requirements.txt to keep them)',
        placeHolder: 'requests==2.32.3 tenacity',
        validateInput: (v) => (v.trim() ? undefined : 'Name at least one package.'),
      });
      if (!input) return;
      const { manager } = await ctx.services();
      const status = await manager.status(flowDir);
      if (!isRunning(status.state)) await startSession(flowDir);
      const tail = await sessionWork(flowDir, `Installing into ${name(flowDir)}`, (p) =>
        manager.install(flowDir, input.trim().split(/\s+/), p),
      );
      void vscode.window.showInformationMessage(
        `Installed ${input.trim()} into the session of ${name(flowDir)}. ${String(tail).split('\n').pop() ?? ''}`,
      );
      void d.validation.validateNow(flowDir);
    }),
    register(d, 'flowsession.installRequirements', async (arg: FlowArg) => {
      const flowDir = await flowOf(arg, 'Install the requirements of which flow?');
      if (!flowDir) return;
      const { manager } = await ctx.services();
      const status = await manager.status(flowDir);
      if (!isRunning(status.state)) await startSession(flowDir);
      await sessionWork(flowDir, `Installing the requirements of ${name(flowDir)}`, (p) => manager.installRequirements(flowDir, p));
      void vscode.window.showInformationMessage(`Installed the requirements of ${name(flowDir)} into its session.`);
      void d.validation.validateNow(flowDir);
    }),
    register(d, 'flowsession.showPackages', async (arg: FlowArg) => {
      const flowDir = await flowOf(arg, "Show the packages of which flow's session?");
      if (!flowDir) return;
      const { manager } = await ctx.services();
      const pkgs = await manager.packages(flowDir);
      const origin = { base: 'base image', requirements: 'requirements', 'by-hand': 'installed by hand (lost on reset)' };
      await vscode.window.showQuickPick(
        pkgs.map((p) => ({ label: p.name, description: p.version, detail: origin[p.origin] })),
        {
          title: `${pkgs.length} packages in the session of ${name(flowDir)}`,
          matchOnDescription: true,
          matchOnDetail: true,
        },
      );
    }),
    register(d, 'flowsession.validateFlow', async (arg: FlowArg) => {
      const flowDir = await flowOf(arg, 'Validate which flow?');
      if (!flowDir) return;
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Validating ${name(flowDir)}` }, () =>
        d.validation.validateNow(flowDir),
      );
      const problems = vscode.languages
        .getDiagnostics()
        .filter(([u, ds]) => u.fsPath.startsWith(flowDir + path.sep) && ds.some((x) => x.source === 'flowsession'));
      if (problems.length > 0) void vscode.commands.executeCommand('workbench.actions.view.problems');
      else void vscode.window.setStatusBarMessage(`$(check) ${name(flowDir)}: no problems`, 4000);
    }),
    register(d, 'flowsession.runFlow', (arg: FlowArg) => runFlow(d, arg)),
    register(d, 'flowsession.runBatch', (arg: FlowArg) => runBatch(d, arg)),
    register(d, 'flowsession.cancelRun', async () => {
      const runs = [...activeRuns.values()];
      if (runs.length === 0) {
        void vscode.window.showInformationMessage('No run is in progress.');
        return;
      }
      const run =
        runs.length === 1
          ? runs[0]
          : (
              await vscode.window.showQuickPick(
                runs.map((r) => ({ label: r.runId, description: name(r.flowDir), run: r })),
                { placeHolder: 'Cancel which run?' },
              )
            )?.run;
      run?.abort.abort();
    }),
    register(d, 'flowsession.openPanel', async (arg: FlowArg) => {
      const flowDir = await flowOf(arg, 'Open the session panel of which flow?');
      if (flowDir) openSessionPanel(d.panel(), flowDir);
    }),
    register(d, 'flowsession.openTerminal', async (arg: FlowArg) => {
      const flowDir = await flowOf(arg, 'Open a terminal in the session of which flow?');
      if (!flowDir) return;
      const { manager } = await ctx.services();
      let status = await manager.status(flowDir);
      if (!isRunning(status.state)) {
        const answer = await vscode.window.showInformationMessage(`The session of ${name(flowDir)} is ${status.state}.`, 'Start Session');
        if (answer !== 'Start Session' || !(await startSession(flowDir))) return;
        status = await manager.status(flowDir);
      }
      if (!status.container) throw new FlowSessionError('session-not-found', `No session container for ${flowDir}.`, 'Start the session.');
      const terminal = vscode.window.createTerminal({
        name: `Session: ${name(flowDir)}`,
        pty: new SessionTerminal(ctx, status.container, name(flowDir)),
        iconPath: new vscode.ThemeIcon('vm'),
      });
      terminal.show();
    }),
    register(d, 'flowsession.setConnection', () => setConnection(ctx)),
    register(d, 'flowsession.selectEngine', () => selectEngine(ctx)),
    register(d, 'flowsession.createSampleFlow', () => createSampleFlow(ctx, index)),
    ...registerImageCommands(d),
  ];
  setRunContext();
  return disposables;
}

function inputsOf(flowDir: string): Promise<Record<string, { type?: string; default?: unknown }>> {
  return import('../core/flow/staticChecks').then(async ({ analyzeFlowDir }) => {
    const a = await analyzeFlowDir(flowDir);
    const errors = a.problems.filter((p) => p.severity === 'error');
    if (errors.length)
      throw new FlowSessionError(
        'flow-definition-error',
        `${errors[0].message} (${errors[0].file}:${errors[0].line})`,
        'Fix the problems shown in the Problems panel, then run again.',
      );
    const v = a.parsed.value as { inputs?: Record<string, { type?: string; default?: unknown }> } | null;
    return v?.inputs && typeof v.inputs === 'object' ? v.inputs : {};
  });
}

function logRunEvent(ctx: Ctx, ev: RuntimeEvent): void {
  if (ev.event === 'nodeStart') {
    ctx.log.info(`[${ev.node}] started`);
  } else if (ev.event === 'nodeLog' && ev.text) {
    for (const line of ev.text.split(/\r?\n/)) if (line) ctx.log.info(`[${ev.node}] ${line}`);
  } else if (ev.event === 'nodeEnd') {
    ctx.log.info(`[${ev.node}] ${ev.status} in ${ev.durationMs} ms`);
  }
}

async function runFlow(d: CommandDeps, arg: FlowArg): Promise<void> {
  const { ctx } = d;
  const flowDir = await resolveFlow(d.index, arg, 'Run which flow?');
  if (!flowDir) return;
  const inputs: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(await inputsOf(flowDir))) {
    const def = spec?.default;
    const text = await vscode.window.showInputBox({
      title: `Run ${path.basename(flowDir)}: input ${key}${spec?.type ? ` (${spec.type})` : ''}`,
      value: def === undefined ? '' : typeof def === 'string' ? def : JSON.stringify(def),
      ignoreFocusOut: true,
      validateInput: (t) => {
        const r = parseInputValue(spec?.type, t);
        return r.ok ? undefined : r.error;
      },
    });
    if (text === undefined) return;
    const parsed = parseInputValue(spec?.type, text);
    // validateInput keeps the box open until the text parses
    if (!parsed.ok) return;
    inputs[key] = parsed.value;
  }
  const { runs } = await ctx.services();
  const { newRunId } = await import('../core/runs/runId');
  const runId = newRunId(flowDir);
  const abort = new AbortController();
  activeRuns.set(runId, { runId, flowDir, abort });
  setRunContext();
  ctx.log.info(`Run ${runId} of ${flowDir}`);
  ctx.log.show(true);
  try {
    const record = await withLongWork(ctx, `Running ${path.basename(flowDir)}`, true, async (w) => {
      w.signal.addEventListener('abort', () => abort.abort());
      return runs.run(flowDir, {
        runId,
        inputs,
        connections: await ctx.connections.forRun(),
        signal: abort.signal,
        onProgress: (r) => w.report(r),
        onEvent: (e) => {
          logRunEvent(ctx, e);
          if (e.event === 'nodeStart') w.report({ message: `node ${e.node}` });
        },
      });
    });
    if (record.status === 'Completed') {
      ctx.log.info(`Run ${runId} completed: ${JSON.stringify(record.outputs)}`);
      const choice = await vscode.window.showInformationMessage(
        `Run of ${path.basename(flowDir)} completed in ${(record.durationMs / 1000).toFixed(1)} s.`,
        'Open Outputs',
        'Open Session Panel',
      );
      if (choice === 'Open Outputs')
        await vscode.window.showTextDocument(vscode.Uri.file(path.join(flowDir, '.promptflow', 'flow.output.json')));
      if (choice === 'Open Session Panel') openSessionPanel(d.panel(), flowDir);
    } else {
      const msg = record.error ? `${record.error.code}: ${record.error.message}` : record.status;
      ctx.log.error(`Run ${runId} ${record.status}: ${msg}`);
      const choice = await vscode.window.showErrorMessage(
        `Run of ${path.basename(flowDir)} ${record.status === 'Canceled' ? 'was cancelled' : 'failed'}: ${msg}`,
        'Show Logs',
      );
      if (choice) ctx.log.show();
    }
  } finally {
    activeRuns.delete(runId);
    setRunContext();
  }
}

async function runBatch(d: CommandDeps, arg: FlowArg): Promise<void> {
  const { ctx } = d;
  const flowDir = await resolveFlow(d.index, arg, 'Run a batch of which flow?');
  if (!flowDir) return;
  const picked = await vscode.window.showOpenDialog({
    defaultUri: vscode.Uri.file(flowDir),
    canSelectMany: false,
    filters: { 'JSON Lines': ['jsonl'] },
    openLabel: 'Run Batch',
    title: 'Data file: one JSON object per line',
  });
  if (!picked?.[0]) return;
  const { runs } = await ctx.services();
  const { newRunId } = await import('../core/runs/runId');
  const runId = newRunId(flowDir, 'batch');
  const abort = new AbortController();
  activeRuns.set(runId, { runId, flowDir, abort });
  setRunContext();
  try {
    let done = 0;
    const record = await withLongWork(ctx, `Batch run of ${path.basename(flowDir)}`, true, async (w) => {
      w.signal.addEventListener('abort', () => abort.abort());
      return runs.batch(flowDir, {
        runId,
        dataFile: picked[0].fsPath,
        connections: await ctx.connections.forRun(),
        signal: abort.signal,
        onProgress: (r) => w.report(r),
        onLine: (l) => {
          done++;
          w.report({ message: `${done} lines done (line ${l.index}: ${l.status})` });
        },
      });
    });
    ctx.log.info(`Batch ${runId}: ${record.status}, ${record.completed}/${record.total} completed, ${record.failed} failed`);
    const choice = await (record.status === 'Completed' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage)(
      `Batch run of ${path.basename(flowDir)}: ${record.completed} of ${record.total} lines completed, ${record.failed} failed.`,
      'Open Output',
    );
    if (choice) await vscode.window.showTextDocument(vscode.Uri.file(record.outputFile));
  } finally {
    activeRuns.delete(runId);
    setRunContext();
  }
}

async function setConnection(ctx: Ctx): Promise<void> {
  const existing = ctx.connections.list();
  const name = await vscode.window.showInputBox({
    title: 'Set Connection (1/5): name',
    prompt: "The connection name the flow's llm nodes use (connection: <name>)",
    value: existing[0]?.name ?? 'open_ai_connection',
    validateInput: checkConnectionName,
    ignoreFocusOut: true,
  });
  if (!name) return;
  const old = existing.find((c) => c.name === name);
  const kinds: { label: string; type: ConnectionKind }[] = [
    { label: 'Azure OpenAI', type: 'AzureOpenAIConnection' },
    { label: 'OpenAI', type: 'OpenAIConnection' },
    { label: 'Custom', type: 'CustomConnection' },
  ];
  const kind = await vscode.window.showQuickPick(
    kinds.map((k) => ({ ...k, picked: k.type === old?.type })),
    { title: 'Set Connection (2/5): type', ignoreFocusOut: true },
  );
  if (!kind) return;
  const apiBase = await vscode.window.showInputBox({
    title: 'Set Connection (3/5): api_base',
    prompt: kind.type === 'AzureOpenAIConnection' ? 'https://<resource>.openai.azure.com/' : 'Leave empty for https://api.openai.com/v1',
    value: old?.api_base ?? '',
    validateInput: (v) => checkApiBase(v.trim(), kind.type === 'AzureOpenAIConnection'),
    ignoreFocusOut: true,
  });
  if (apiBase === undefined) return;
  let apiVersion: string | undefined;
  if (kind.type === 'AzureOpenAIConnection') {
    apiVersion = await vscode.window.showInputBox({
      title: 'Set Connection (4/5): api_version',
      value: old?.api_version ?? '2024-02-01',
      ignoreFocusOut: true,
    });
    if (apiVersion === undefined) return;
  }
  const key = await vscode.window.showInputBox({
    title: 'Set Connection (5/5): api key',
    prompt: old
      ? "Leave empty to keep the stored key. Kept in VS Code's secret storage; runs receive it per request."
      : "Kept in VS Code's secret storage; runs receive it per request.",
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return;
  await ctx.connections.set(
    { name, type: kind.type, api_base: apiBase.trim() || undefined, api_version: apiVersion?.trim() || undefined },
    key ? key : old ? undefined : '',
  );
  ctx.log.info(`Connection ${name} (${kind.type}) saved`);
  void vscode.window.showInformationMessage(`Connection ${name} saved; runs of this workspace receive it.`);
}

const SAMPLE: Record<string, string> = {
  'flow.dag.yaml': `# A small flow: a python tool and a prompt.
$schema: https://azuremlschemas.azureedge.net/promptflow/latest/Flow.schema.json
inputs:
  name:
    type: string
    default: World
outputs:
  greeting:
    type: string
    reference: \${greet.output}
  prompt:
    type: string
    reference: \${render_prompt.output}
nodes:
- name: greet
  type: python
  source:
    type: code
    path: greet.py
  inputs:
    name: \${inputs.name}
- name: render_prompt
  type: prompt
  source:
    type: code
    path: prompt.jinja2
  inputs:
    greeting: \${greet.output}
`,
  'greet.py': `from promptflow.core import tool


@tool
def greet(name: str) -> str:
    print(f"greeting {name}")
    return f"Hello, {name}!"
`,
  'prompt.jinja2': `# system:
You are a friendly assistant.

# user:
Reply to this greeting: {{ greeting }}
`,
  'requirements.txt': '# Python packages this flow needs, installed when its session is created.\n',
};

async function createSampleFlow(ctx: Ctx, index: FlowIndex): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showWarningMessage('Open a folder first; the sample flow is created in it.');
    return;
  }
  let dir = path.join(folder.uri.fsPath, 'hello-flow');
  for (let i = 2; fs.existsSync(dir); i++) dir = path.join(folder.uri.fsPath, `hello-flow-${i}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(SAMPLE)) fs.writeFileSync(path.join(dir, file), text, { flag: 'wx' });
  ctx.log.info(`Created a sample flow in ${dir}`);
  await index.refresh();
  await vscode.window.showTextDocument(vscode.Uri.file(path.join(dir, 'flow.dag.yaml')));
}
