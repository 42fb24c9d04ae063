/**
 * The extension side of one session panel, without 'vscode': it keeps the panel's state, feeds it from
 * session changes and runs, and acts on the webview's checked requests for its one flow. The vscode
 * adapter (sessionPanel.ts) gives it a way to post to the webview and the few editor actions it needs.
 */
import * as path from 'path';
import type { ProgressReport } from '../../core/docker/progress';
import { errorMessage } from '../../core/errors';
import { entryStepOf } from '../../core/flow/entryStep';
import { definitionFileIn } from '../../core/flow/flowKind';
import { flowInputsOf } from '../../core/flow/flowInputs';
import { analyzeFlowDir } from '../../core/flow/staticChecks';
import { readRunHistory } from '../../core/runs/runHistory';
import { newRunId, resolveRunFile, runsFolder } from '../../core/runs/runStore';
import type { RunOptions, RunRecord } from '../../core/runs/runService';
import type { FlowRunError, RuntimeEvent } from '../../core/runtime/protocol';
import { answerText, chatShape, historyItem, isChatFlow, turnInputs, type ChatShape, type ChatTurn } from '../../core/chat/chatFlow';
import { sessionKey } from '../../core/session/labels';
import type { SessionChange } from '../../core/session/sessionManager';
import type { SessionStatus } from '../../core/session/state';
import { coerceInputs, fieldsFromFlow, type FormValue } from '../../shared/inputsForm';
import { entryGraph, flowGraph } from '../../shared/flowGraph';
import { applyHostMessage, emptyState, isRunActive } from '../../shared/panelState';
import { variantChoicesFromFlow, variantSelectors } from '../../shared/variantChoices';
import {
  parseWebviewMessage,
  type ChatView,
  type HostMessage,
  type PanelState,
  type RunErrorView,
  type RunEventView,
  type SessionView,
  type WebviewMessage,
} from '../../shared/protocol';
import { handleInsightRequest, isInsightRequest, runTimeline } from './panelInsights';
import type { Disposable, PanelServices } from './panelServices';

/** The editor actions the controller asks of its host. */
export interface PanelHost {
  postMessage(msg: HostMessage): PromiseLike<boolean>;
  openFile(absPath: string): PromiseLike<unknown>;
  /** asks before a reset drops packages installed by hand */
  confirmReset(flowName: string): PromiseLike<boolean>;
  /** opens a file of the flow at a line (1-based) */
  openSource(absPath: string, line: number): PromiseLike<unknown>;
  /** opens text in a new untitled editor (a value too long for the panel) */
  openUntitled(text: string, language: 'json' | 'plaintext'): PromiseLike<unknown>;
}

/** a node output over this is shown as a preview: the webview is not a place for megabytes of JSON */
const MAX_OUTPUT_PREVIEW_CHARS = 64 * 1024;

function sessionView(s: SessionStatus): SessionView {
  // listed field by field so nothing added to SessionStatus later reaches the webview unreviewed
  return {
    state: s.state,
    phase: s.phase,
    reason: s.reason,
    outdated: s.outdated,
    baseImage: s.baseImage,
    image: s.image,
    env: s.env,
    runtimeVersion: s.runtimeVersion,
    containerName: s.containerName,
    engine: s.engine,
  };
}

function errorView(e: FlowRunError | undefined): RunErrorView | undefined {
  if (!e) return undefined;
  return { code: String(e.code), message: String(e.message), node: e.node, detail: e.detail };
}

function preview(value: unknown): unknown {
  if (value === undefined) return undefined;
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    return String(value);
  }
  return text !== undefined && text.length > MAX_OUTPUT_PREVIEW_CHARS ? `${text.slice(0, MAX_OUTPUT_PREVIEW_CHARS)}… [truncated]` : value;
}

function eventView(e: RuntimeEvent): RunEventView | undefined {
  switch (e.event) {
    case 'nodeStart':
      return { event: 'nodeStart', node: e.node };
    case 'nodeLog':
      return { event: 'nodeLog', node: e.node, stream: e.stream === 'stderr' ? 'stderr' : 'stdout', text: String(e.text) };
    case 'outputStream':
      return { event: 'outputStream', ...(e.node ? { node: String(e.node) } : {}), outputs: e.outputs.map(String), text: String(e.text) };
    case 'nodeEnd':
      return {
        event: 'nodeEnd',
        node: e.node,
        status: e.status,
        durationMs: e.durationMs,
        output: preview(e.output),
        error: errorView(e.error),
      };
    default:
      return undefined;
  }
}

export class PanelController {
  readonly key: string;
  private state: PanelState;
  private webviewReady = false;
  private readonly subscriptions: Disposable[] = [];
  private statusInFlight: Promise<void> | undefined;
  private statusAgain = false;
  private lastAction = '';
  private packagesToken = 0;
  private abort: AbortController | undefined;
  private pendingCancel = false;
  /** session work this panel started (start, reset), whose progress it clears itself */
  private ownWork = 0;
  private disposed = false;
  /** the chat's turns as the flow's history input receives them; the panel's `chat.turns` show them */
  private chatHistory: ChatTurn[] = [];
  private chat: ChatShape | undefined;

  constructor(
    private readonly services: PanelServices,
    readonly flowDir: string,
    private readonly host: PanelHost,
  ) {
    this.key = sessionKey(flowDir);
    this.state = emptyState(flowDir, path.basename(flowDir));
  }

  get snapshot(): PanelState {
    return this.state;
  }

  /** Subscribes to session changes and loads everything once. */
  start(): void {
    this.subscriptions.push(this.services.sessions.onDidChange((c) => this.onSessionChange(c)));
    if (this.services.onDidReportProgress) {
      this.subscriptions.push(
        this.services.onDidReportProgress((dir, r) => {
          if (sessionKey(dir) === this.key) this.onProgress(r);
        }),
      );
    }
    void this.refreshFields();
    void this.refreshHistory();
    void this.refreshStatus();
  }

  /** The webview went away (hidden or reloading); what it misses is re-sent on its next `ready`. */
  webviewGone(): void {
    this.webviewReady = false;
  }

  private post(msg: HostMessage): void {
    if (this.disposed) return;
    this.state = applyHostMessage(this.state, msg);
    if (this.webviewReady) void Promise.resolve(this.host.postMessage(msg)).catch(() => undefined);
  }

  private notice(level: 'info' | 'error', message: string): void {
    this.post({ type: 'notice', notice: { level, message } });
  }

  // ---- messages from the webview --------------------------------------------------------------

  /** Checks and then acts on one message from the webview; anything malformed is logged and dropped. */
  async handleMessage(raw: unknown): Promise<void> {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.services.log.warn(`Session panel: refused a message from the webview (${parsed.reason}).`);
      return;
    }
    try {
      await this.dispatch(parsed.message);
    } catch (e) {
      this.services.log.error(`Session panel: ${errorMessage(e)}`);
      this.notice('error', errorMessage(e));
    }
  }

  private async dispatch(msg: WebviewMessage): Promise<void> {
    if (isInsightRequest(msg))
      return handleInsightRequest(msg, {
        flowDir: this.flowDir,
        post: (m) => this.post(m),
        notice: (level, message) => this.notice(level, message),
        openSource: (file, line) => this.host.openSource(file, line),
        openUntitled: (text, language) => this.host.openUntitled(text, language),
      });
    switch (msg.type) {
      case 'ready':
        this.webviewReady = true;
        await Promise.resolve(this.host.postMessage({ type: 'state', state: this.state })).catch(() => undefined);
        return;
      case 'run':
        return this.run(msg.inputs, msg.variants ?? {});
      case 'chatSend':
        return this.chatSend(msg.message, msg.inputs);
      case 'chatClear':
        return this.chatClear();
      case 'cancel':
        return this.cancel(msg.runId);
      case 'startSession':
        return this.sessionWork('Starting the session', (onProgress) => this.services.sessions.up(this.flowDir, onProgress));
      case 'resetSession':
        if (!(await this.host.confirmReset(this.state.flowName))) return;
        return this.sessionWork('Resetting the session', (onProgress) => this.services.sessions.reset(this.flowDir, onProgress));
      case 'refreshPackages':
        return this.refreshPackages();
      case 'openFile': {
        const file = await resolveRunFile(this.flowDir, msg.runId, msg.file);
        if (!file) {
          this.services.log.warn(
            `Session panel: refused to open ${msg.file} of run ${msg.runId}: no such file in ${runsFolder(this.flowDir)}.`,
          );
          return;
        }
        await this.host.openFile(file);
        return;
      }
    }
  }

  private async sessionWork(what: string, fn: (onProgress: (r: ProgressReport) => void) => Promise<unknown>): Promise<void> {
    this.post({ type: 'notice', notice: null });
    this.post({ type: 'progress', progress: { message: what, log: [] } });
    this.ownWork++;
    try {
      await fn((r) => this.onProgress(r));
      this.post({ type: 'progress', progress: null });
    } catch (e) {
      this.post({ type: 'progress', progress: null });
      throw e;
    } finally {
      this.ownWork--;
      void this.refreshStatus();
    }
  }

  // ---- runs -----------------------------------------------------------------------------------

  private async run(raw: Record<string, FormValue>, picks: Record<string, string>): Promise<void> {
    if (isRunActive(this.state.run)) {
      this.notice('error', 'A run of this flow is going; cancel it or wait for it to end.');
      return;
    }
    // the flow may have changed since the form was made: check against flow.dag.yaml as it is now
    await this.refreshFields();
    const { values, errors } = coerceInputs(this.state.fields, raw);
    if (Object.keys(errors).length > 0) {
      this.post({ type: 'formErrors', errors });
      return;
    }
    const chosen = variantSelectors(this.state.variantChoices, picks);
    if ('error' in chosen) {
      this.notice('error', `${chosen.error} Pick the variants again.`);
      return;
    }
    await this.execute(newRunId(this.flowDir), { inputs: values, ...(chosen.selectors.length ? { variant: chosen.selectors } : {}) });
  }

  /**
   * Runs one node of the flow alone, as `run --node` does: its inputs from the flow's defaults and the upstream
   * outputs of the latest run. Refused while a run of this flow is going.
   */
  async runNode(node: string): Promise<void> {
    if (isRunActive(this.state.run)) {
      this.notice('error', 'A run of this flow is going; cancel it or wait for it to end.');
      return;
    }
    await this.execute(newRunId(this.flowDir), { node });
  }

  /**
   * A run (or node run) shown in the panel from start to end, its files then in the history; the record, or undefined
   * when it threw.
   */
  private async execute(runId: string, options: Pick<RunOptions, 'inputs' | 'variant' | 'node'>): Promise<RunRecord | undefined> {
    const started = Date.now();
    this.abort = new AbortController();
    this.pendingCancel = false;
    this.post({ type: 'notice', notice: null });
    this.post({ type: 'runStarted', runId, startedAt: new Date(started).toISOString(), ...(options.node ? { node: options.node } : {}) });
    try {
      const connections = await this.services.connectionsFor(this.flowDir);
      const record = await this.services.runs.run(this.flowDir, {
        runId,
        ...options,
        connections,
        signal: this.abort.signal,
        onProgress: (r) => this.onProgress(r),
        onEvent: (e) => this.onRunEvent(runId, e),
      });
      this.post({
        type: 'runEnded',
        runId,
        status: record.status,
        outputs: preview(record.outputs) as Record<string, unknown> | null,
        error: errorView(record.error),
        durationMs: record.durationMs,
        ...(record.variants ? { variants: record.variants } : {}),
        ...(record.metrics && Object.keys(record.metrics).length ? { metrics: record.metrics } : {}),
        ...(record.trace ? { timeline: runTimeline(record.trace) } : {}),
      });
      if (record.warnings?.length) this.notice('info', record.warnings.join(' '));
      return record;
    } catch (e) {
      this.post({
        type: 'runEnded',
        runId,
        status: 'Failed',
        outputs: null,
        error: { code: 'RunFailed', message: errorMessage(e) },
        durationMs: Date.now() - started,
      });
      return undefined;
    } finally {
      this.abort = undefined;
      if (this.state.progress) this.post({ type: 'progress', progress: null });
      void this.refreshHistory();
    }
  }

  // ---- chat -----------------------------------------------------------------------------------

  private postChat(chat: ChatView | null): void {
    this.post({ type: 'chat', chat });
  }

  /** The chat view for the flow as it is now: none for a flow without a chat input; the turns stay while its shape does. */
  private updateChat(flow: unknown): void {
    if (!isChatFlow(flow)) {
      this.chat = undefined;
      this.chatHistory = [];
      if (this.state.chat !== null) this.postChat(null);
      return;
    }
    let shape: ChatShape;
    try {
      shape = chatShape(flow);
    } catch (e) {
      this.chat = undefined;
      const problem = errorMessage(e);
      if (this.state.chat?.problem !== problem) this.postChat({ input: '', history: '', turns: this.state.chat?.turns ?? [], problem });
      return;
    }
    const same = this.chat && this.chat.input === shape.input && this.chat.history === shape.history && this.chat.output === shape.output;
    if (same && this.state.chat && !this.state.chat.problem) return; // a save that kept the shape keeps the chat, and a turn under way
    if (!same) {
      // another shape: the turns so far were made for other inputs
      this.chat = shape;
      this.chatHistory = [];
    }
    this.postChat({ ...shape, turns: same ? (this.state.chat?.turns ?? []) : [] });
  }

  private async chatSend(message: string, raw: Record<string, FormValue>): Promise<void> {
    if (isRunActive(this.state.run)) {
      this.notice('error', 'A run of this flow is going; cancel it or wait for it to end.');
      return;
    }
    await this.refreshFields();
    const shape = this.chat;
    const chat = this.state.chat;
    if (!shape || !chat) {
      this.notice('error', chat?.problem ?? 'This flow is not a chat flow: none of its inputs is marked is_chat_input.');
      return;
    }
    // the chat sets its own two inputs; the others are checked as the run form's are
    const others = Object.fromEntries(Object.entries(raw).filter(([k]) => k !== shape.input && k !== shape.history));
    const { values, errors } = coerceInputs(this.state.fields, others);
    if (Object.keys(errors).length > 0) {
      this.post({ type: 'formErrors', errors });
      this.notice('error', 'Some inputs of the Run form are not valid; fix them, then send again.');
      return;
    }
    const inputs = turnInputs(shape, values, message, this.chatHistory);
    const runId = newRunId(this.flowDir);
    this.postChat({ ...chat, pending: { runId, message } });
    const record = await this.execute(runId, { inputs });
    const now = this.state.chat;
    if (!now || this.chat !== shape) return; // flow.dag.yaml changed meanwhile: that chat is gone
    const { pending: _done, ...rest } = now;
    if (record?.status === 'Completed') {
      const outputs = record.outputs ?? {};
      this.chatHistory.push(historyItem(shape, inputs, outputs));
      this.postChat({ ...rest, turns: [...rest.turns, { message, answer: answerText(shape, outputs) }] });
    } else {
      const error = (record && errorView(record.error)) ??
        this.state.run?.error ?? { code: 'RunFailed', message: 'The turn did not complete.' };
      this.postChat({ ...rest, turns: [...rest.turns, { message, error }] });
    }
  }

  private chatClear(): void {
    const chat = this.state.chat;
    if (!chat) return;
    if (chat.pending && isRunActive(this.state.run)) {
      this.notice('error', 'A turn is under way; wait for its answer or cancel it, then clear.');
      return;
    }
    this.chatHistory = [];
    this.postChat({ ...chat, turns: [], pending: undefined });
  }

  private onRunEvent(runId: string, e: RuntimeEvent): void {
    if (this.pendingCancel) {
      // the cancel came while the session was still being prepared: the run exists now
      this.pendingCancel = false;
      void this.services.runs.cancel(runId).catch(() => undefined);
    }
    const view = eventView(e);
    if (this.state.progress) this.post({ type: 'progress', progress: null });
    if (view) this.post({ type: 'runEvent', runId, event: view });
  }

  private async cancel(runId: string): Promise<void> {
    const run = this.state.run;
    if (!run || run.runId !== runId || !isRunActive(run)) {
      this.services.log.warn(`Session panel: refused to cancel run ${runId}: it is not this panel's current run.`);
      return;
    }
    this.abort?.abort();
    const cancelled = await this.services.runs.cancel(runId).catch(() => false);
    if (!cancelled) this.pendingCancel = true;
    this.post({ type: 'notice', notice: { level: 'info', message: 'Cancelling the run…' } });
  }

  // ---- session state --------------------------------------------------------------------------

  private onSessionChange(c: SessionChange): void {
    if (c.key !== this.key && c.key !== '*') return;
    // execs (the runtime, package listings) do not change the session's state
    if (c.action.startsWith('exec_')) return;
    this.lastAction = c.action;
    void this.refreshStatus();
  }

  private onProgress(r: ProgressReport): void {
    const log = r.log
      ? r.log
          .split(/\r?\n/)
          .filter((l) => l.trim())
          .map((l) => l.slice(0, 2000))
      : undefined;
    this.post({ type: 'progress', progress: { phase: r.phase, message: r.message, percent: r.percent, log } });
  }

  /** One status read at a time; changes arriving meanwhile cause one more read after it. */
  refreshStatus(): Promise<void> {
    if (this.statusInFlight) {
      this.statusAgain = true;
      return this.statusInFlight;
    }
    this.statusInFlight = (async () => {
      do {
        this.statusAgain = false;
        const action = this.lastAction;
        this.lastAction = '';
        const before = this.state.session?.state;
        let status: SessionStatus | undefined;
        try {
          status = await this.services.sessions.status(this.flowDir);
        } catch (e) {
          this.post({ type: 'session', session: { state: 'unavailable', reason: errorMessage(e), outdated: false, engine: '' } });
          continue;
        }
        if (this.disposed) return;
        this.post({ type: 'session', session: sessionView(status) });
        // progress reported for work started elsewhere (a command) ends when the session settles
        const working = status.state === 'creating' || status.state === 'busy' || status.state === 'stopping';
        if (!working && this.state.progress && this.ownWork === 0 && this.state.run?.status !== 'Preparing')
          this.post({ type: 'progress', progress: null });
        if (status.state === 'ready') {
          if (before !== 'ready' || action === 'settled' || action === 'runtime-restarted' || this.state.packages.status !== 'ready')
            void this.refreshPackages();
        } else if (status.state !== 'busy') {
          this.packagesToken++;
          this.post({
            type: 'packages',
            packages: { status: 'unavailable', items: [], message: 'Start the session to see its packages.' },
          });
        }
      } while (this.statusAgain && !this.disposed);
    })().finally(() => {
      this.statusInFlight = undefined;
    });
    return this.statusInFlight;
  }

  async refreshPackages(): Promise<void> {
    const token = ++this.packagesToken;
    this.post({ type: 'packages', packages: { ...this.state.packages, status: 'loading' } });
    try {
      const items = await this.services.sessions.packages(this.flowDir);
      if (token !== this.packagesToken) return;
      this.post({
        type: 'packages',
        packages: { status: 'ready', items: items.map((p) => ({ name: p.name, version: p.version, origin: p.origin })) },
      });
    } catch (e) {
      if (token !== this.packagesToken) return;
      this.post({ type: 'packages', packages: { status: 'error', items: [], message: errorMessage(e) } });
    }
  }

  /** A flex flow's or a prompty's graph (it has no nodes): its inputs, its one step, the outputs it declares. */
  private async postEntryGraph(inputs: string[]): Promise<void> {
    const step = await entryStepOf(this.flowDir).catch(() => undefined);
    if (!step) return;
    const graph = entryGraph(step, inputs);
    if (this.state.graphError !== undefined || JSON.stringify(graph) !== JSON.stringify(this.state.graph))
      this.post({ type: 'graph', graph });
  }

  async refreshFields(): Promise<void> {
    if (definitionFileIn(this.flowDir)?.kind !== 'dag') {
      // a flex flow's or a prompty's form: the inputs its definition declares, with the sample's values as defaults
      try {
        const declared = await flowInputsOf(this.flowDir);
        // a running session reads the entry's signature: its inputs in order, what the YAML declares winning
        const signature = await this.services.entryInputs?.(this.flowDir).catch(() => undefined);
        const inputs: Record<string, { type?: string; default?: unknown }> = {};
        for (const [name, port] of Object.entries(signature ?? {}))
          inputs[name] = {
            ...(port.type ? { type: port.type } : {}),
            ...('default' in port ? { default: port.default } : {}),
            ...declared[name],
          };
        for (const [name, spec] of Object.entries(declared)) inputs[name] ??= spec;
        await this.postEntryGraph(Object.keys(inputs));
        const fields = fieldsFromFlow({ inputs });
        if (this.state.fieldsError === undefined && JSON.stringify(fields) === JSON.stringify(this.state.fields)) return;
        this.post({ type: 'fields', fields });
      } catch (e) {
        this.post({ type: 'fields', fields: this.state.fields, error: errorMessage(e) });
      }
      return;
    }
    const analysis = await analyzeFlowDir(this.flowDir);
    const value = analysis.parsed.value;
    const yamlProblem = analysis.parsed.problems[0];
    if (value === undefined || yamlProblem) {
      const error = yamlProblem ? `flow.dag.yaml: ${yamlProblem.message} (line ${yamlProblem.line})` : 'flow.dag.yaml could not be read.';
      this.post({ type: 'fields', fields: this.state.fields, error });
      this.post({ type: 'graph', graph: null, error });
      return;
    }
    this.updateChat(value);
    const choices = variantChoicesFromFlow(value);
    if (JSON.stringify(choices) !== JSON.stringify(this.state.variantChoices)) this.post({ type: 'variants', choices });
    const graph = flowGraph(value);
    if (this.state.graphError !== undefined || JSON.stringify(graph) !== JSON.stringify(this.state.graph))
      this.post({ type: 'graph', graph });
    const fields = fieldsFromFlow(value);
    // an unchanged form is not re-sent: re-rendering it would take the focus from the field being typed in
    if (this.state.fieldsError === undefined && JSON.stringify(fields) === JSON.stringify(this.state.fields)) return;
    this.post({ type: 'fields', fields });
  }

  async refreshHistory(): Promise<void> {
    // the webview gets names only, never the folders' paths
    const runs = (await readRunHistory(this.flowDir)).map(({ dir: _dir, ...run }) => run);
    this.post({ type: 'history', runs });
  }

  dispose(): void {
    // a run started here goes on when the panel closes; its files land in the history as usual
    this.disposed = true;
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }
}
