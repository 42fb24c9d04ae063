/**
 * How each host message changes the panel's state. The host applies it to its own copy (the one it
 * re-sends on `ready`) and the webview to what it shows, so the two cannot drift apart. Pure: every
 * change returns new objects for the parts it touches, which lets the webview re-render only those.
 */
import type { HostMessage, NodeView, PanelState, ProgressView, RunEventView, RunView } from './protocol';

export const STATE_LIMITS = {
  /** per node: the runtime caps a node at 1 MB; the panel keeps the last part */
  nodeLogChars: 256 * 1024,
  progressLines: 200,
  historyRuns: 50,
  /** per streamed output, the text the panel keeps while it streams (the run's outputs have it whole) */
  streamedChars: 256 * 1024,
  /** chat turns shown; the host keeps the whole history for the flow */
  chatTurns: 200,
} as const;

export function emptyState(flowDir: string, flowName: string): PanelState {
  return {
    flowDir,
    flowName,
    session: null,
    progress: null,
    packages: { status: 'unavailable', items: [] },
    fields: [],
    formErrors: {},
    variantChoices: [],
    run: null,
    history: [],
    notice: null,
    chat: null,
    graph: null,
    comparison: null,
    historyTrace: null,
  };
}

function appendLog(node: NodeView, text: string): NodeView {
  const log = node.log + text;
  if (log.length <= STATE_LIMITS.nodeLogChars) return { ...node, log };
  return { ...node, log: log.slice(log.length - STATE_LIMITS.nodeLogChars), logTruncated: true };
}

function appendStreamed(run: RunView, outputs: string[], text: string): RunView {
  const streamed = { ...(run.streamed ?? {}) };
  for (const o of outputs) {
    const soFar = Object.prototype.hasOwnProperty.call(streamed, o) ? streamed[o] : '';
    // past the cap the start stays: the run's outputs bring the whole text when it ends
    streamed[o] = soFar.length >= STATE_LIMITS.streamedChars ? soFar : (soFar + text).slice(0, STATE_LIMITS.streamedChars);
  }
  return { ...run, status: run.status === 'Preparing' ? 'Running' : run.status, streamed };
}

function applyRunEvent(run: RunView, e: RunEventView): RunView {
  if (e.event === 'outputStream') return appendStreamed(run, e.outputs, e.text);
  const i = run.nodes.findIndex((n) => n.node === e.node);
  const current: NodeView = i >= 0 ? run.nodes[i] : { node: e.node, status: 'Running', log: '' };
  let next: NodeView;
  switch (e.event) {
    case 'nodeStart':
      next = { ...current, status: 'Running' };
      break;
    case 'nodeLog':
      next = appendLog(current, e.text);
      break;
    case 'nodeEnd':
      next = { ...current, status: e.status, durationMs: e.durationMs, output: e.output, error: e.error };
      break;
  }
  const nodes = i >= 0 ? run.nodes.map((n, j) => (j === i ? next : n)) : [...run.nodes, next];
  return { ...run, status: run.status === 'Preparing' ? 'Running' : run.status, nodes };
}

function applyProgress(prev: ProgressView | null, p: Extract<HostMessage, { type: 'progress' }>['progress']): ProgressView | null {
  if (!p) return null;
  const log = [...(prev?.log ?? []), ...(p.log ?? [])].slice(-STATE_LIMITS.progressLines);
  return {
    phase: p.phase ?? prev?.phase,
    message: p.message ?? prev?.message,
    percent: p.percent ?? (p.phase && p.phase !== prev?.phase ? undefined : prev?.percent),
    log,
  };
}

/** The state after one host message. Messages about another run than the current one are ignored. */
export function applyHostMessage(state: PanelState, msg: HostMessage): PanelState {
  switch (msg.type) {
    case 'state':
      return msg.state;
    case 'session':
      return { ...state, session: msg.session };
    case 'progress':
      return { ...state, progress: applyProgress(state.progress, msg.progress) };
    case 'packages':
      return { ...state, packages: msg.packages };
    case 'fields':
      return { ...state, fields: msg.fields, fieldsError: msg.error };
    case 'formErrors':
      return { ...state, formErrors: msg.errors };
    case 'variants':
      return { ...state, variantChoices: msg.choices };
    case 'runStarted':
      return {
        ...state,
        formErrors: {},
        run: { runId: msg.runId, status: 'Preparing', startedAt: msg.startedAt, nodes: [], ...(msg.node ? { node: msg.node } : {}) },
      };
    case 'runStatus':
      if (state.run?.runId !== msg.runId) return state;
      return { ...state, run: { ...state.run, status: msg.status } };
    case 'runEvent':
      if (state.run?.runId !== msg.runId) return state;
      return { ...state, run: applyRunEvent(state.run, msg.event) };
    case 'runEnded': {
      if (state.run?.runId !== msg.runId) return state;
      // nodes still marked running when the run ends did not finish (cancel, timeout, crash)
      const nodes = state.run.nodes.map((n) => (n.status === 'Running' ? { ...n, status: 'Canceled' as const } : n));
      return {
        ...state,
        run: {
          ...state.run,
          nodes,
          status: msg.status,
          outputs: msg.outputs,
          error: msg.error,
          durationMs: msg.durationMs,
          ...(msg.variants ? { variants: msg.variants } : {}),
          ...(msg.metrics ? { metrics: msg.metrics } : {}),
          ...(msg.timeline ? { timeline: msg.timeline } : {}),
        },
      };
    }
    case 'history':
      return { ...state, history: msg.runs.slice(0, STATE_LIMITS.historyRuns) };
    case 'notice':
      return { ...state, notice: msg.notice };
    case 'chat':
      return { ...state, chat: msg.chat ? { ...msg.chat, turns: msg.chat.turns.slice(-STATE_LIMITS.chatTurns) } : null };
    case 'graph':
      // an unreadable flow keeps the last graph drawn, with the reason
      return { ...state, graph: msg.graph ?? state.graph, graphError: msg.error };
    case 'comparison':
      return { ...state, comparison: msg.comparison };
    case 'historyTrace':
      return { ...state, historyTrace: msg.trace };
  }
}

/** A run that has not ended yet. */
export function isRunActive(run: RunView | null): boolean {
  return run !== null && (run.status === 'Preparing' || run.status === 'Running');
}
