/**
 * Every message between the extension side (src/ui/panel) and the session panel's webview (src/webview),
 * declared once and used by both sides. Messages from the webview are untrusted input: `parseWebviewMessage`
 * checks their shape, types and sizes before anything looks at them; the host then checks what only
 * it knows (the flow's inputs, the runs on disk). Nothing here may import 'vscode' or Node modules:
 * it is bundled into the webview too.
 */
import { COMPARE_LIMITS, type ComparisonView } from './comparison';
import type { FlowGraph } from './flowGraph';
import { FORM_LIMITS, isValidInputName, type FormValue, type InputField } from './inputsForm';
import { RUN_ID } from './runId';
import { isVariantName, VARIANT_LIMITS, type VariantChoice } from './variantChoices';
import type { Timeline } from './trace';

export const PANEL_VIEW_TYPE = 'flowsession.sessionPanel';

// ---- what the panel shows (host → webview) -----------------------------------------------------

export type SessionStateName = 'not-created' | 'creating' | 'ready' | 'busy' | 'stopping' | 'stopped' | 'failed' | 'unavailable';

/** A session as the panel shows it: no container environment, no connection, nothing secret. */
export interface SessionView {
  state: SessionStateName;
  phase?: string;
  reason?: string;
  outdated: boolean;
  baseImage?: string;
  image?: string;
  env?: string;
  runtimeVersion?: string;
  containerName?: string;
  engine: string;
}

export interface ProgressView {
  phase?: string;
  message?: string;
  percent?: number;
  /** the last lines of pull/build/install output */
  log: string[];
}

export type PackageOriginName = 'base' | 'requirements' | 'by-hand';
export interface PackageRow {
  name: string;
  version: string;
  origin: PackageOriginName;
}
export interface PackagesView {
  status: 'unavailable' | 'loading' | 'ready' | 'error';
  items: PackageRow[];
  /** why the list is unavailable or failed */
  message?: string;
}

export type NodeStatusName = 'Running' | 'Completed' | 'Failed' | 'Bypassed' | 'Canceled';
export interface RunErrorView {
  code: string;
  message: string;
  node?: string;
  detail?: string;
}
export interface NodeView {
  node: string;
  status: NodeStatusName;
  durationMs?: number;
  /** stdout and stderr as they arrived, capped */
  log: string;
  logTruncated?: boolean;
  output?: unknown;
  error?: RunErrorView;
}
export type RunStatusName = 'Preparing' | 'Running' | 'Completed' | 'Failed' | 'Canceled';
export interface RunView {
  runId: string;
  /** a single node run ("Run Node"): the node */
  node?: string;
  status: RunStatusName;
  startedAt: string;
  nodes: NodeView[];
  /** flow output → its text so far, while a generator output streams (capped) */
  streamed?: Record<string, string>;
  outputs?: Record<string, unknown> | null;
  error?: RunErrorView;
  durationMs?: number;
  /** node -> the variant that ran, for every node with variants */
  variants?: Record<string, string>;
  /** what the run logged with log_metric */
  metrics?: Record<string, number>;
  /** the run's trace as a timeline, with token totals, once it ended */
  timeline?: Timeline;
}

export interface RunSummary {
  runId: string;
  kind: 'run' | 'batch';
  status: string;
  /** ISO time */
  time: string;
  files: string[];
  /** what the run logged with log_metric (its metrics.json) */
  metrics?: Record<string, number>;
  /** node -> the variant that ran (batch: summary.json; run: none recorded) */
  variants?: Record<string, string>;
}

/** One turn of the chat as the panel shows it: the message, and the answer or why the turn failed. */
export interface ChatTurnView {
  message: string;
  answer?: string;
  error?: RunErrorView;
}

/** A chat flow's chat (null in PanelState for other flows); its history is kept by the host, per panel. */
export interface ChatView {
  /** the inputs and output of flow.dag.yaml the chat uses */
  input: string;
  history: string;
  output?: string;
  turns: ChatTurnView[];
  /** the turn under way: its answer streams into the run's `streamed` */
  pending?: { runId: string; message: string };
  /** why the flow marks a chat input but cannot chat (no history input, history not a list, …) */
  problem?: string;
}

export interface Notice {
  level: 'info' | 'error';
  message: string;
}

/** Everything the panel shows; the host keeps one and re-sends it whole on `ready`. */
export interface PanelState {
  flowDir: string;
  flowName: string;
  session: SessionView | null;
  progress: ProgressView | null;
  packages: PackagesView;
  fields: InputField[];
  /** why the form could not be made (flow.dag.yaml unreadable) */
  fieldsError?: string;
  /** field errors of the last refused run request */
  formErrors: Record<string, string>;
  /** the nodes with variants, to pick one of each for a run */
  variantChoices: VariantChoice[];
  run: RunView | null;
  history: RunSummary[];
  notice: Notice | null;
  /** set for a flow with an `is_chat_input` input */
  chat: ChatView | null;
  /** the flow's inputs, nodes and outputs as a graph; null until read */
  graph: FlowGraph | null;
  /** why the graph could not be made (flow.dag.yaml unreadable) */
  graphError?: string;
  /** runs of the history side by side, when some were chosen */
  comparison: ComparisonView | null;
  /** the trace of a run of the history, when one was asked for */
  historyTrace: { runId: string; timeline: Timeline } | null;
}

export type RunEventView =
  | { event: 'nodeStart'; node: string }
  | { event: 'nodeLog'; node: string; stream: 'stdout' | 'stderr'; text: string }
  /** a chunk of a streamed flow output, for the flow outputs it belongs to (`node`: the DAG node making it) */
  | { event: 'outputStream'; node?: string; outputs: string[]; text: string }
  | {
      event: 'nodeEnd';
      node: string;
      status: Exclude<NodeStatusName, 'Running'>;
      durationMs: number;
      output?: unknown;
      error?: RunErrorView;
    };

export type HostMessage =
  | { type: 'state'; state: PanelState }
  | { type: 'session'; session: SessionView | null }
  | { type: 'progress'; progress: (Omit<ProgressView, 'log'> & { log?: string[] }) | null }
  | { type: 'packages'; packages: PackagesView }
  | { type: 'fields'; fields: InputField[]; error?: string }
  | { type: 'formErrors'; errors: Record<string, string> }
  | { type: 'variants'; choices: VariantChoice[] }
  | { type: 'runStarted'; runId: string; startedAt: string; node?: string }
  | { type: 'runStatus'; runId: string; status: RunStatusName }
  | { type: 'runEvent'; runId: string; event: RunEventView }
  | {
      type: 'runEnded';
      runId: string;
      status: 'Completed' | 'Failed' | 'Canceled';
      outputs: Record<string, unknown> | null;
      error?: RunErrorView;
      durationMs: number;
      variants?: Record<string, string>;
      metrics?: Record<string, number>;
      timeline?: Timeline;
    }
  | { type: 'history'; runs: RunSummary[] }
  | { type: 'graph'; graph: FlowGraph | null; error?: string }
  | { type: 'comparison'; comparison: ComparisonView | null }
  | { type: 'historyTrace'; trace: { runId: string; timeline: Timeline } | null }
  | { type: 'notice'; notice: Notice | null }
  | { type: 'chat'; chat: ChatView | null };

// ---- what the webview asks (webview → host) ----------------------------------------------------

export type WebviewMessage =
  /** the webview (re)loaded and listens: the host answers with `state` */
  | { type: 'ready' }
  /** `variants`: node -> the variant picked (the host checks them against the flow) */
  | { type: 'run'; inputs: Record<string, FormValue>; variants?: Record<string, string> }
  | { type: 'cancel'; runId: string }
  | { type: 'startSession' }
  | { type: 'resetSession' }
  | { type: 'refreshPackages' }
  | { type: 'openFile'; runId: string; file: string }
  /** a chat turn: `message` goes to the chat input, `inputs` are the form's other inputs */
  | { type: 'chatSend'; message: string; inputs: Record<string, FormValue> }
  /** forget the chat's history */
  | { type: 'chatClear' }
  /** open the source of a node of the graph: its python tool at the function, or its template */
  | { type: 'openNodeSource'; node: string }
  /** open a value of a run whole in an editor: a node's output or a flow output, read from the run's files */
  | { type: 'openValue'; runId: string; kind: 'node' | 'output'; name: string }
  /** show these runs of the history side by side; none closes the comparison */
  | { type: 'compareRuns'; runIds: string[] }
  /** show the trace of a run of the history as a timeline */
  | { type: 'showTrace'; runId: string }
  | { type: 'hideTrace' };

export const MESSAGE_LIMITS = {
  runIdChars: 128,
  fileNameChars: 255,
  inputs: FORM_LIMITS.fields,
  inputValueChars: FORM_LIMITS.valueChars,
  /** all input values of one run request together */
  totalInputChars: 1024 * 1024,
  /** a node's or an output's name */
  nameChars: 256,
} as const;

/** A node or output name as flow.dag.yaml may spell it (prompt flow: letters, digits, _ and -). */
const ITEM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** A file name in a run folder: one segment, no path. */
export const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_. -]*$/;

export type Parsed = { ok: true; message: WebviewMessage } | { ok: false; reason: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function onlyKeys(v: Record<string, unknown>, allowed: string[]): string | undefined {
  const extra = Object.keys(v).find((k) => !allowed.includes(k));
  return extra === undefined ? undefined : `unexpected field '${extra.slice(0, 40)}'`;
}

function checkRunId(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'runId must be a string';
  if (v.length === 0 || v.length > MESSAGE_LIMITS.runIdChars) return 'runId has a bad length';
  if (!RUN_ID.test(v) || v.includes('..')) return 'runId has bad characters';
  return undefined;
}

function checkFileName(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'file must be a string';
  if (v.length === 0 || v.length > MESSAGE_LIMITS.fileNameChars) return 'file has a bad length';
  if (!FILE_NAME.test(v) || v.includes('..')) return 'file must be a plain file name';
  return undefined;
}

function checkVariants(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (!isRecord(v)) return 'variants must be an object';
  const entries = Object.entries(v);
  if (entries.length > VARIANT_LIMITS.nodes) return 'too many variants';
  for (const [node, id] of entries) if (!isVariantName(node) || !isVariantName(id)) return 'bad variant name';
  return undefined;
}

function checkName(v: unknown, what: string): string | undefined {
  if (typeof v !== 'string') return `${what} must be a string`;
  if (v.length === 0 || v.length > MESSAGE_LIMITS.nameChars || !ITEM_NAME.test(v)) return `${what} is not a node or output name`;
  return undefined;
}

function checkRunIds(v: unknown): string | undefined {
  if (!Array.isArray(v) || Object.getPrototypeOf(v) !== Array.prototype) return 'runIds must be a list';
  if (v.length > COMPARE_LIMITS.maxRuns) return 'too many runs';
  if (v.length > 0 && v.length < COMPARE_LIMITS.minRuns) return 'a comparison needs two runs or more';
  for (const id of v) {
    const bad = checkRunId(id);
    if (bad) return bad;
  }
  return new Set(v).size === v.length ? undefined : 'a run is named twice';
}

function checkInputs(v: unknown): string | undefined {
  if (!isRecord(v)) return 'inputs must be an object';
  const entries = Object.entries(v);
  if (entries.length > MESSAGE_LIMITS.inputs) return 'too many inputs';
  let total = 0;
  for (const [name, value] of entries) {
    if (!isValidInputName(name)) return 'bad input name';
    if (typeof value === 'boolean') continue;
    if (typeof value !== 'string') return `input '${name}' must be text or a boolean`;
    if (value.length > MESSAGE_LIMITS.inputValueChars) return `input '${name}' is too long`;
    total += value.length;
    if (total > MESSAGE_LIMITS.totalInputChars) return 'inputs are too long';
  }
  return undefined;
}

function checkChatMessage(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'message must be text';
  if (v.trim() === '') return 'message is empty';
  if (v.length > MESSAGE_LIMITS.inputValueChars) return 'message is too long';
  return undefined;
}

/** A copy with only the checked own entries, so nothing the sender attached rides along. */
function copyInputs(v: unknown): Record<string, FormValue> {
  const inputs: Record<string, FormValue> = {};
  for (const [k, value] of Object.entries(v as Record<string, FormValue>)) inputs[k] = value;
  return inputs;
}

/**
 * Checks a message from the webview before any use: a plain object of a known type with exactly
 * its fields, each of the right type and size. Anything else is refused with a reason for the log.
 */
export function parseWebviewMessage(raw: unknown): Parsed {
  if (!isRecord(raw)) return { ok: false, reason: 'not an object' };
  const type = raw.type;
  if (typeof type !== 'string') return { ok: false, reason: 'no type' };
  const fail = (reason: string | undefined): Parsed | undefined =>
    reason ? { ok: false, reason: `${type.slice(0, 40)}: ${reason}` } : undefined;
  switch (type) {
    case 'ready':
    case 'startSession':
    case 'resetSession':
    case 'refreshPackages':
    case 'chatClear':
    case 'hideTrace':
      return fail(onlyKeys(raw, ['type'])) ?? { ok: true, message: { type } };
    case 'cancel':
    case 'showTrace':
      return fail(onlyKeys(raw, ['type', 'runId']) ?? checkRunId(raw.runId)) ?? { ok: true, message: { type, runId: raw.runId as string } };
    case 'openFile':
      return (
        fail(onlyKeys(raw, ['type', 'runId', 'file']) ?? checkRunId(raw.runId) ?? checkFileName(raw.file)) ?? {
          ok: true,
          message: { type, runId: raw.runId as string, file: raw.file as string },
        }
      );
    case 'openNodeSource':
      return (
        fail(onlyKeys(raw, ['type', 'node']) ?? checkName(raw.node, 'node')) ?? { ok: true, message: { type, node: raw.node as string } }
      );
    case 'openValue':
      return (
        fail(
          onlyKeys(raw, ['type', 'runId', 'kind', 'name']) ??
            checkRunId(raw.runId) ??
            (raw.kind === 'node' || raw.kind === 'output' ? undefined : "kind must be 'node' or 'output'") ??
            checkName(raw.name, 'name'),
        ) ?? { ok: true, message: { type, runId: raw.runId as string, kind: raw.kind as 'node' | 'output', name: raw.name as string } }
      );
    case 'compareRuns':
      return (
        fail(onlyKeys(raw, ['type', 'runIds']) ?? checkRunIds(raw.runIds)) ?? {
          ok: true,
          message: { type, runIds: [...(raw.runIds as string[])] },
        }
      );
    case 'run': {
      const bad = fail(onlyKeys(raw, ['type', 'inputs', 'variants']) ?? checkInputs(raw.inputs) ?? checkVariants(raw.variants));
      if (bad) return bad;
      const inputs = copyInputs(raw.inputs);
      if (raw.variants === undefined) return { ok: true, message: { type, inputs } };
      // a copy with only the checked own entries, so nothing the sender attached rides along
      const variants: Record<string, string> = {};
      for (const [k, v] of Object.entries(raw.variants as Record<string, string>)) variants[k] = v;
      return { ok: true, message: { type, inputs, variants } };
    }
    case 'chatSend': {
      const bad = fail(onlyKeys(raw, ['type', 'message', 'inputs']) ?? checkChatMessage(raw.message) ?? checkInputs(raw.inputs));
      if (bad) return bad;
      return { ok: true, message: { type, message: raw.message as string, inputs: copyInputs(raw.inputs) } };
    }
    default:
      return { ok: false, reason: `unknown type '${type.slice(0, 40)}'` };
  }
}
