/**
 * The protocol between the extension side and the in-container runtime (runtime/flowsession_runtime),
 * newline-delimited JSON over the runtime's stdin/stdout. Each method is declared once here, with its
 * params and result types; the Python side mirrors these names.
 */
import type { SpanAttributeValue, TraceSpan } from '../../shared/trace';

export type { TraceSpan } from '../../shared/trace';

export const PROTOCOL_VERSION = 1;

export interface RuntimeRequest<P = unknown> {
  id: number;
  method: string;
  params: P;
}

export interface RuntimeErrorPayload {
  code: string;
  message: string;
  /** extra detail, e.g. a traceback restricted to user files */
  detail?: string;
}

export interface RuntimeResponse<R = unknown> {
  id: number;
  result?: R;
  error?: RuntimeErrorPayload;
}

export interface RuntimeEventBase {
  event: string;
  runId?: string;
}

/** Declares a method: its name with phantom param/result types, shared by client and tests. */
export interface MethodType<P, R> {
  readonly method: string;
  readonly _params?: P;
  readonly _result?: R;
}
function method<P, R>(name: string): MethodType<P, R> {
  return { method: name };
}

export interface PingResult {
  pong: true;
}
export interface VersionResult {
  runtime: string;
  protocol: number;
  python: string;
  jinja2: string | null;
  promptflow: string | null;
}

/** Error codes of error responses (`RuntimeErrorPayload.code`) that are not flow errors. */
export type RuntimeErrorCode =
  | 'InvalidRequest' // the line was not a request (id is null)
  | 'InvalidParams'
  | 'MethodNotFound'
  | 'RunIdInUse'
  | 'RuntimeCrashed' // the child died without a result (crash, os._exit, sys.exit, signal); message has the status
  | 'RunTimeout' // timeoutSeconds elapsed; the child was killed
  | 'Cancelled' // a cancel request stopped it
  | 'FlowDirectoryNotFound'
  | 'RuntimeError'; // unexpected failure inside the runtime itself

// ---- flow definition (flow.dag.yaml, parsed by the TS side and sent as JSON) -------------------

/** flow.dag.yaml as plain JSON; the runtime reads inputs, outputs, nodes, node_variants, environment_variables. */
export type FlowJson = Record<string, unknown>;

/** Which of prompt flow's three kinds a request's flow is (absent: a DAG, as before flex flows and prompty). */
export type FlowKindParam = 'dag' | 'flex' | 'prompty';

/** A .prompty file as the host parsed it (the runtime has no YAML parser): front matter as JSON, then the template. */
export interface PromptyDoc {
  config: Record<string, unknown>;
  template: string;
  /** 1-based line of the template's first line in the file */
  templateLine: number;
  /** why the file cannot be used (unreadable front matter); Prompty.load reports it */
  error?: string;
}

/** What every validate, run and batch request may carry besides `flow`, for flex flows and prompty. */
export interface FlowKindFields {
  /** default 'dag'; 'flex': `flow` is flow.flex.yaml; 'prompty': the flow is `prompty[flowFile]` */
  kind?: FlowKindParam;
  /** the flow file relative to the flow folder (flow.flex.yaml, chat.prompty) */
  flowFile?: string;
  /** the .prompty files of the flow folder by relative path, for prompty flows and Prompty.load from code */
  prompty?: Record<string, PromptyDoc>;
  /** values of the `${env:NAME}` names those files use, from the host's environment: secrets, per request only */
  envValues?: Record<string, string>;
  /** a flex class entry's `__init__` arguments (`--init`), connections and model configurations by name */
  init?: Record<string, unknown>;
}

/** A step into the flow JSON: object key or array index, e.g. ['nodes', 2, 'inputs', 'foo']. */
export type YamlPathSegment = string | number;

// ---- validate ------------------------------------------------------------------------------

export interface ValidateParams extends FlowKindFields {
  flow: FlowJson;
  /** flow folder inside the container; default: the runtime's --flow-dir */
  flowDir?: string;
  /** relative source paths (forward slashes) to limit the checks to; default all node sources */
  sources?: string[];
  /** default 60 */
  timeoutSeconds?: number;
  /** the connections a run would get, without their values: when given, node inputs naming others are errors */
  connections?: Record<string, ConnectionShape>;
}

/** What validation knows of a connection: its class, and a custom strong type's class and module. Never a value. */
export interface ConnectionShape {
  type: string;
  custom_type?: string;
  module?: string;
}

/**
 * A problem found by the runtime. Either placed in a .py/.jinja2 file (line/column, 1-based,
 * end exclusive) or in flow.dag.yaml by `yamlPath` (the most specific existing path), for the TS
 * side to map to a range.
 */
export interface RuntimeProblem {
  code: ValidateProblemCode | string;
  message: string;
  severity: 'error' | 'warning';
  /** relative to the flow folder, forward slashes; 'flow.dag.yaml' when yamlPath is set */
  file: string;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  yamlPath?: YamlPathSegment[];
}

export type ValidateProblemCode =
  | 'PythonParsingError' // syntax error in the tool file (its line/column)
  | 'PythonLoadError' // import failed; on the innermost traceback line inside the flow folder
  | 'NoToolDefined' // line 1
  | 'MultipleToolsDefined' // one problem per @tool def line
  | 'JinjaParsingError' // the template's syntax error line
  | 'Jinja2NotInstalled'
  | 'InvalidSource' // yamlPath [..node, 'source', 'path']
  | 'MissingNodeInput' // error for python tools, warning for template variables; yamlPath node.inputs or node
  | 'UnknownNodeInput' // error, and run refuses it too: a tool without **kwargs; yamlPath node.inputs.<name>
  | 'NodeInputValidationError'; // literal of the wrong type; yamlPath node.inputs.<name>

export interface ToolInputMeta {
  type: string[];
  default?: string;
  enum?: string[];
  custom_type?: string[];
}

export interface CodeToolMeta {
  type: 'python' | 'prompt' | 'llm';
  inputs: Record<string, ToolInputMeta>;
  description?: string;
  source: string;
  /** python tools only */
  function?: string;
}

/** prompt flow's .promptflow/flow.tools.json */
export interface FlowToolsJson {
  code: Record<string, CodeToolMeta>;
  package: Record<string, unknown>;
}

/** A flex flow's entry as the session reads it: its inputs from the signature, with the defaults a run takes. */
export interface FlexEntryMeta {
  /** type: a flow input type, or null for an unannotated parameter */
  inputs: Record<string, { type: string | null; default?: unknown }>;
}

export interface ValidateResult {
  result: 'Succeeded' | 'Failed';
  errors: RuntimeProblem[];
  tools: FlowToolsJson;
  /** kind 'flex', when the entry loaded */
  entry?: FlexEntryMeta;
}

// ---- run -----------------------------------------------------------------------------------

export interface ConnectionSpec {
  type: 'OpenAIConnection' | 'AzureOpenAIConnection' | 'CustomConnection' | string;
  api_key?: string;
  api_base?: string;
  /** OpenAI: base URL, e.g. https://api.openai.com/v1 (api_base is accepted too) */
  base_url?: string;
  api_version?: string;
  organization?: string;
  /** CustomConnection */
  secrets?: Record<string, string>;
  configs?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface RunParams extends FlowKindFields {
  runId: string;
  flow: FlowJson;
  flowDir?: string;
  inputs?: Record<string, unknown>;
  connections?: Record<string, ConnectionSpec>;
  /** whole request; default 600 */
  timeoutSeconds?: number;
  /** e.g. '${summarize.variant_1}', or one such selector per node (the panel's picks); default variants otherwise */
  variant?: string | string[];
  /** per llm HTTP request; default 600 */
  llmTimeoutSeconds?: number;
  /**
   * run this node alone (`pf flow test --node`): `inputs` names its inputs (`text`) or the references they read
   * (`inputs.url`, `fetch.output.text`); the result's outputs are `{<node>: output}`
   */
  node?: string;
  /** with `node`: upstream node outputs (the last run's) for the inputs not given */
  nodeOutputs?: Record<string, unknown>;
  /**
   * a debug run: the child starts debugpy on the session's loopback, sends `debugListening` with its port and waits
   * for a debugger to attach before it loads the tools; fails with `DebuggerUnavailable` when debugpy is missing
   */
  debug?: boolean;
  /** record spans (flow, nodes, LLM calls) and return them as `trace`; default off */
  trace?: boolean;
}

/** Codes of a failed run's `error` (flow-level, in a result; not an error response). */
export type RunErrorCode =
  | 'ToolExecutionError' // innerCode = the exception class, e.g. ValueError, WrappedOpenAIError, ChatAPIInvalidRole
  | 'InputNotFound'
  | 'InputTypeError'
  | 'InputParseError'
  | 'NodeInputValidationError'
  | 'InvalidSource'
  | 'ResolveToolError' // the tool could not be loaded: "Tool load failed in '<node>': (<code>) <message>"
  | 'ConnectionNotFound'
  | 'UnsupportedNodeType'
  | 'InvalidReferenceProperty'
  | 'DuplicateNodeName'
  | 'NodeReferenceNotFound'
  | 'InputReferenceNotFound'
  | 'InvalidNodeReference'
  | 'NodeCircularDependency'
  | 'FlowDefinitionError'
  | 'EmptyOutputReference'
  | 'OutputReferenceNotFound'
  | 'Jinja2NotInstalled'
  | 'DebuggerUnavailable'; // a debug run, and debugpy is not in the session (or could not start)

export interface FlowRunError {
  code: RunErrorCode | string;
  message: string;
  node?: string;
  /** exception class for ToolExecutionError */
  innerCode?: string;
  /** traceback restricted to files in the flow folder */
  detail?: string;
}

export type NodeStatus = 'Completed' | 'Failed' | 'Bypassed' | 'Canceled';

/** prompt flow's flow.detail.json: write it as is to <flow>/.promptflow/flow.detail.json */
export interface FlowDetailJson {
  flow_runs: Array<{
    run_id: string;
    status: 'Completed' | 'Failed';
    error: unknown;
    inputs: Record<string, unknown> | null;
    output: Record<string, unknown> | null;
    start_time: string;
    end_time: string;
    index: number;
    system_metrics: { duration: number };
  }>;
  node_runs: Array<{
    node: string;
    flow_run_id: string;
    run_id: string;
    status: NodeStatus;
    inputs: Record<string, unknown> | null;
    output: unknown;
    error: unknown;
    start_time: string;
    end_time: string;
    index: number;
    logs: { stdout: string; stderr: string };
    system_metrics: { duration: number };
  }>;
}

export interface RunResult {
  status: 'Completed' | 'Failed';
  /** flow outputs (flow.output.json); null when the run failed */
  outputs: Record<string, unknown> | null;
  error?: FlowRunError;
  detail: FlowDetailJson;
  /** text for .promptflow/flow.log */
  log: string;
  /** what the aggregation nodes logged with log_metric (`<key>.<variant>` when logged with a variant id); absent when none */
  metrics?: RunMetrics;
  /** node -> the variant that ran, for every node with variants (chosen with `variant`, else the default) */
  variants?: Record<string, string>;
  /** with RunParams.trace: the run's spans, the flow span first-made (root), secrets redacted */
  trace?: TraceSpan[];
}

/** prompt flow's metrics.json: metric name -> number */
export type RunMetrics = Record<string, number>;

// ---- batch ---------------------------------------------------------------------------------

/** the runtime's number of batch workers when none is given (batch.py's DEFAULT_WORKERS): most lines wait on I/O */
export const DEFAULT_BATCH_WORKERS = 16;

export interface BatchParams extends FlowKindFields {
  runId: string;
  flow: FlowJson;
  flowDir?: string;
  /** .jsonl path readable in the container (relative paths are relative to flowDir) */
  dataPath: string;
  /**
   * flow input -> '${data.<column>}', '${run.outputs.<output>}', '${run.inputs.<input>}' or a literal; unmapped
   * inputs take the same-named column
   */
  columnMapping?: Record<string, unknown>;
  /**
   * an evaluation batch: a .jsonl of the base run's lines (`{"line_number", "inputs", "outputs"}`), readable in
   * the container, that `${run.…}` mappings read by line number; data lines the base run has no outputs for do not run
   */
  baseRunPath?: string;
  /** default DEFAULT_BATCH_WORKERS, at most 64 */
  workers?: number;
  /** remove dataPath (a copy under /tmp/flowsession-data-*) when the batch ends */
  removeData?: boolean;
  connections?: Record<string, ConnectionSpec>;
  /** whole batch; default 600 */
  timeoutSeconds?: number;
  /** per line; default 600 */
  lineTimeoutSeconds?: number;
  variant?: string | string[];
  llmTimeoutSeconds?: number;
  /** multi-engine batch: lineEnd events carry each line's aggregation values (`agg`) and the aggregation nodes do not run */
  aggValues?: boolean;
  /** multi-engine batch: read no data, run only the aggregation nodes over these lists (node -> input -> values in line order) */
  aggregationLists?: Record<string, Record<string, unknown[]>>;
  /** record spans: each lineEnd carries its line's, the result the batch's root span and the aggregation's; default off */
  trace?: boolean;
  /**
   * with trace: each line's own spans (its root, one per step) come as a compact record in its lineEnd
   * (`traceRecord`), what every line shares once in a traceSteps event before the first line
   */
  traceRecords?: boolean;
}

export interface BatchResult {
  /** Completed even when lines failed; Failed when the flow could not start or aggregation failed */
  status: 'Completed' | 'Failed';
  total: number;
  completed: number;
  failed: number;
  /** "N out of M runs failed" or "All M runs completed" */
  summary: string;
  aggregation: {
    status: 'Completed' | 'Failed';
    outputs: Record<string, unknown>;
    error?: FlowRunError;
    nodeRuns: FlowDetailJson['node_runs'];
  } | null;
  error?: FlowRunError | { code: 'DataFileNotFound' | 'InvalidDataFile' | 'InvalidParams'; message: string };
  durationMs: number;
  /** what the aggregation nodes logged with log_metric; {} when none */
  metrics?: RunMetrics;
  /** node -> the variant that made every line's outputs, for every node with variants */
  variants?: Record<string, string>;
  /** with BatchParams.trace: the batch's root span (the lines' parent) and the aggregation's spans */
  trace?: TraceSpan[];
}

// ---- cancel / shutdown ---------------------------------------------------------------------

export interface CancelParams {
  runId: string;
}
export interface CancelResult {
  /** false when no run with that id is going */
  cancelled: boolean;
}
export interface ShutdownResult {
  ok: true;
}

// ---- events --------------------------------------------------------------------------------

export interface NodeStartEvent extends RuntimeEventBase {
  event: 'nodeStart';
  runId: string;
  node: string;
}
/** Batched (about every 100 ms or 8 KB); text at most 64 KB; at most 1 MB per node, then "[truncated]". */
export interface NodeLogEvent extends RuntimeEventBase {
  event: 'nodeLog';
  runId: string;
  node: string;
  stream: 'stdout' | 'stderr';
  text: string;
}
export interface NodeEndEvent extends RuntimeEventBase {
  event: 'nodeEnd';
  runId: string;
  node: string;
  status: NodeStatus;
  durationMs: number;
  /** Completed only; a text preview when the JSON is over 128 KB (then outputTruncated) */
  output?: unknown;
  outputTruncated?: boolean;
  error?: FlowRunError;
}
/**
 * A chunk of a streamed flow output, sent as it is produced; the one streaming event of every kind of flow. In a DAG
 * flow it is a generator output of a node (an llm node with `stream: true`, a python tool that yields) whose whole
 * output a flow output shows: `node` names the node, `outputs` the flow outputs it feeds (a `run` with `node`: that
 * node). In a flex flow or a prompty it is the entry's generator output: no `node`, `outputs` is `['output']`. Only
 * in a `run`: a batch records the whole text. The output, and every record of it, is all its chunks' text joined.
 * At most 32 KB of text per event.
 */
export interface OutputStreamEvent extends RuntimeEventBase {
  event: 'outputStream';
  runId: string;
  /** the flow outputs this text belongs to */
  outputs: string[];
  /** the DAG node producing it; absent for a flex flow's or a prompty's own output */
  node?: string;
  text: string;
}
/**
 * batch: one per input line as it finishes, in any order; index is the 0-based line (blank lines skipped). The
 * runtime sends them gathered in lineEnds messages; listeners of the client see them one by one.
 */
export interface LineEndEvent extends RuntimeEventBase {
  event: 'lineEnd';
  runId: string;
  index: number;
  status: 'Completed' | 'Failed';
  durationMs: number;
  inputs?: Record<string, unknown>;
  output?: Record<string, unknown>;
  /** codes: RunErrorCode, InvalidDataLine, RuntimeCrashed, LineExecutionTimeoutError, UnsupportedColumnMapping */
  error?: FlowRunError;
  /** with BatchParams.aggValues: the values this line gives the aggregation nodes (node -> input -> value) */
  agg?: Record<string, Record<string, unknown>>;
  /** with BatchParams.trace: this line's spans, its root a child of the batch's root span */
  trace?: TraceSpan[];
  /** with BatchParams.traceRecords: this line's own spans as a record (see LineTraceRecord) */
  traceRecord?: LineTraceRecord;
}

/**
 * A step of a recorded line: its index in the traceSteps table, its start and end in nanoseconds after the line's
 * start, its inputs and (when it completed) its output, then its status unless it completed, and its error's type
 * and message when it failed.
 */
export type RecordedStep = [
  index: number,
  start: number,
  end: number,
  /** true: the ones the traceSteps table names (StepInputSource) */
  inputs: unknown,
  output: unknown,
  /** absent: the step completed (most do, and each item costs the worker its encoding) */
  status?: string,
  errorType?: string | null,
  message?: string | null,
];
/** What a recorded line has besides its spans' times and ids: its error, its values when redacted, inner spans. */
export interface LineTraceExtra {
  message?: string;
  /** the root's inputs and output when they are not the line's own (inputs, output) as the lineEnd has them */
  inputs?: unknown;
  output?: unknown;
  /** spans made inside the steps (LLM calls, @trace functions), whole */
  spans?: TraceSpan[];
}
/**
 * A batch line's own spans (BatchParams.traceRecords), as runtime/flowsession_runtime/line_records.py makes them:
 * the line's root span (a child of the batch's, named by the line's number) and one per step, the extension writing
 * their OTLP/JSON. A value that is a string is the attribute's text as it is; any other is written as JSON text and
 * cut.
 */
export type LineTraceRecord = [
  /** the line's start, Unix nanoseconds as decimal text */
  start: string,
  /** the line's end, nanoseconds after its start */
  end: number,
  /**
   * span ids in hex, 16 digits each: the root's, then one per step of the traceSteps table; empty when nothing in the
   * line needed one (the extension draws them)
   */
  ids: string,
  ok: boolean,
  steps: RecordedStep[],
  extra?: LineTraceExtra,
];
/**
 * batch with BatchParams.traceRecords, before the first line: what every recorded line's spans share: the batch's
 * trace, the parent of each line's root span, and the steps a line may run, each with its span's name and attributes.
 */
export interface TraceStepsEvent extends RuntimeEventBase {
  event: 'traceSteps';
  runId: string;
  traceId: string;
  parentSpanId: string;
  steps: { name: string; attributes: Record<string, SpanAttributeValue>; inputs?: StepInputSource[] }[];
}
/**
 * Where a step's input comes from, for a recorded line whose step says its inputs are the ones the table names
 * (inputs: true): a flow input (the lineEnd's inputs), the output of a step of the table (as the line's record
 * carries it), or a literal (its JSON text as the runtime writes it). The step's inputs are the JSON of the dict of
 * these, in this order.
 */
export type StepInputSource = [name: string, from: 'input', flowInput: string] | [name: string, from: 'step', step: number] | [name: string, from: 'value', json: string];
/**
 * batch, on the wire: the lines that ended since the last such event (sent about every 25 ms), in any order. The
 * client hands each on as a lineEnd event (see `lineEndsOf`), so one message carries many lines and is parsed once.
 */
export interface LineEndsMessage extends RuntimeEventBase {
  event: 'lineEnds';
  runId: string;
  lines: Omit<LineEndEvent, 'event' | 'runId'>[];
}

/** The lineEnd events a lineEnds message carries; undefined for any other message (or one whose lines are not a list). */
export function lineEndsOf(message: { event?: unknown; runId?: unknown; lines?: unknown }): LineEndEvent[] | undefined {
  if (message.event !== 'lineEnds' || typeof message.runId !== 'string' || !Array.isArray(message.lines)) return undefined;
  const runId = message.runId;
  const lines: LineEndEvent[] = [];
  // each line becomes its event in place: a batch of many lines is not copied again
  for (const line of message.lines as unknown[])
    if (typeof line === 'object' && line !== null && !Array.isArray(line)) lines.push(Object.assign(line, { event: 'lineEnd' as const, runId }) as LineEndEvent);
  return lines;
}
/** A debug run's debugpy listens on this port of the session's loopback and waits for a debugger. */
export interface DebugListeningEvent extends RuntimeEventBase {
  event: 'debugListening';
  runId: string;
  port: number;
}
/**
 * What a `run` streams: its nodes (or a flex flow's or a prompty's one step) starting, printing and ending, its
 * streamed outputs (and, debugging, where its debugger listens).
 */
export type RunEvent = NodeStartEvent | NodeLogEvent | OutputStreamEvent | NodeEndEvent | DebugListeningEvent;
/** What a `batch` streams: each line as it ends, and the node events of its aggregation nodes. */
export type BatchEvent = LineEndEvent | TraceStepsEvent | RunEvent;
/** Every event the runtime sends, told apart by `event`. */
export type RuntimeEvent = RunEvent | BatchEvent;

// a Record, so that an event added to the union above cannot be forgotten here
const EVENT_NAMES: Record<RuntimeEvent['event'], true> = {
  nodeStart: true,
  nodeLog: true,
  outputStream: true,
  nodeEnd: true,
  lineEnd: true,
  traceSteps: true,
  debugListening: true,
};

/** True for a message that names one of the events above; the runtime ships with the extension and sends no other. */
export function isRuntimeEvent(message: { event?: unknown }): message is RuntimeEvent {
  return typeof message.event === 'string' && Object.prototype.hasOwnProperty.call(EVENT_NAMES, message.event);
}

/** Saved files of the flow, written into the session's copy of the flow folder (paths confined to it). */
export interface WriteFilesParams {
  files: { path: string; content: string /* base64 */ }[];
  /** empty the session's flow folder first (a fresh copy after a restart) */
  clear?: boolean;
}
export interface WriteFilesResult {
  written: string[];
}

/** A file the session's flow folder holds, stamped as the host's copy was when it was sent; or a folder. */
export type ManifestEntry = { size: number; mtimeMs: number; hash: string } | { dir: true };
/** What the session's flow folder holds, kept by the runtime outside that folder; `container` is the session's. */
export interface SyncManifest {
  version: number;
  container: string;
  /** bumped by every change, so a process that diffed against an older state finds out */
  generation: number;
  entries: Record<string, ManifestEntry>;
}
export interface SyncStateResult {
  /** null when the session cannot prove what it holds (no manifest, unreadable, another container's) */
  manifest: SyncManifest | null;
}
/**
 * Brings the session's flow folder towards the host's listing, in this order: empties it (base null), removes,
 * creates folders, writes the small files, drops `forget`, sets `record`.
 */
export interface SyncFilesParams {
  container: string;
  /** the generation the host diffed against; null starts over from an empty folder */
  base: number | null;
  remove?: string[];
  dirs?: string[];
  files?: { path: string; content: string /* base64 */ }[];
  /** entries of files that are about to come by an engine archive copy (not proven until recorded) */
  forget?: string[];
  record?: Record<string, ManifestEntry>;
}
/** `conflict`: the session is at another generation (another process synced); `manifest` is what it holds now. */
export type SyncFilesResult = { generation: number; conflict?: undefined } | { conflict: true; manifest: SyncManifest | null };

export const Methods = {
  ping: method<Record<string, never>, PingResult>('ping'),
  version: method<Record<string, never>, VersionResult>('version'),
  validate: method<ValidateParams, ValidateResult>('validate'),
  run: method<RunParams, RunResult>('run'),
  batch: method<BatchParams, BatchResult>('batch'),
  cancel: method<CancelParams, CancelResult>('cancel'),
  shutdown: method<Record<string, never>, ShutdownResult>('shutdown'),
  writeFiles: method<WriteFilesParams, WriteFilesResult>('writeFiles'),
  syncState: method<Record<string, never>, SyncStateResult>('syncState'),
  syncFiles: method<SyncFilesParams, SyncFilesResult>('syncFiles'),
};
