/**
 * The shape of a chat flow and the history it keeps, as prompt flow reads them (`is_executable_chat_flow` and
 * `pf flow test --interactive`): one input marked `is_chat_input`, a list input marked `is_chat_history` (or
 * named `chat_history`), at most one output marked `is_chat_output`. Each turn appends
 * `{"inputs": {...}, "outputs": {...}}` to the history the next turn receives. Pure: the CLI's `chat` and the
 * session panel's chat view share it.
 */
import { FlowSessionError } from '../errors';

/** prompt flow's name for the history input when none is marked */
const CHAT_HISTORY = 'chat_history';

export interface ChatShape {
  /** the input the user's message goes to */
  input: string;
  /** the list input that receives the turns so far */
  history: string;
  /** the output that answers; undefined for a flow without outputs */
  output?: string;
}

/** One turn as the history input receives it. */
export interface ChatTurn {
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function entries(flow: unknown, section: 'inputs' | 'outputs'): [string, Record<string, unknown>][] {
  const s = isRecord(flow) ? flow[section] : undefined;
  if (!isRecord(s)) return [];
  return Object.entries(s).map(([name, spec]) => [name, isRecord(spec) ? spec : {}]);
}

const flagged = (spec: Record<string, unknown>, key: string) => spec[key] === true;

/** True when the flow marks an input `is_chat_input`: it is meant as a chat flow (its shape may still be wrong). */
export function isChatFlow(flow: unknown): boolean {
  return entries(flow, 'inputs').some(([, spec]) => flagged(spec, 'is_chat_input'));
}

function notChat(message: string, remedy: string): FlowSessionError {
  return new FlowSessionError('flow-definition-error', message, remedy);
}

function describeType(type: unknown): string {
  return type === undefined ? 'untyped' : `'${String(type)}'`;
}

/** The chat shape of a flow (flow.dag.yaml as JSON), or a FlowSessionError saying what is missing and how to mark it. */
export function chatShape(flow: unknown): ChatShape {
  const inputs = entries(flow, 'inputs');
  const outputs = entries(flow, 'outputs');
  const chatInputs = inputs.filter(([, s]) => flagged(s, 'is_chat_input')).map(([n]) => n);
  if (chatInputs.length === 0)
    throw notChat(
      'This flow is not a chat flow: none of its inputs is marked is_chat_input.',
      'Mark the input that takes the user\'s message with "is_chat_input: true" in flow.dag.yaml.',
    );
  if (chatInputs.length > 1)
    throw notChat(
      `A chat flow has one chat input; this one marks ${chatInputs.map((n) => `'${n}'`).join(', ')} as is_chat_input.`,
      'Keep "is_chat_input: true" on one input only.',
    );
  const chatOutputs = outputs.filter(([, s]) => flagged(s, 'is_chat_output')).map(([n]) => n);
  if (chatOutputs.length > 1)
    throw notChat(
      `A chat flow has one chat output; this one marks ${chatOutputs.map((n) => `'${n}'`).join(', ')} as is_chat_output.`,
      'Keep "is_chat_output: true" on the output that answers.',
    );
  if (chatOutputs.length === 0 && outputs.length > 0)
    throw notChat(
      'The chat output is not configured: none of the outputs is marked is_chat_output.',
      'Mark the output that answers with "is_chat_output: true".',
    );
  const marked = inputs.find(([, s]) => flagged(s, 'is_chat_history'));
  const byName = inputs.find(([n, s]) => n === CHAT_HISTORY && s.is_chat_history !== false);
  const history = marked ?? byName;
  if (!history)
    throw notChat(
      'chat_history is required in the inputs of a chat flow: no input is marked is_chat_history.',
      'Add a list input for the history, e.g. "chat_history: {type: list, is_chat_history: true, default: []}".',
    );
  const [historyName, historySpec] = history;
  if (historySpec.type !== 'list')
    throw notChat(
      `The chat history input '${historyName}' must be of type list, not ${describeType(historySpec.type)}.`,
      `Declare it as "${historyName}: {type: list, is_chat_history: true}": it receives the turns so far as {inputs, outputs} items.`,
    );
  if (historyName === chatInputs[0])
    throw notChat(`The input '${historyName}' cannot be both the chat input and the chat history.`, 'Use two inputs.');
  return { input: chatInputs[0], history: historyName, ...(chatOutputs[0] ? { output: chatOutputs[0] } : {}) };
}

/** The inputs of the next turn: the other inputs as given, the user's message and the turns so far. */
export function turnInputs(
  shape: ChatShape,
  others: Record<string, unknown>,
  message: string,
  history: readonly ChatTurn[],
): Record<string, unknown> {
  return {
    ...others,
    [shape.input]: message,
    [shape.history]: history.map((t) => ({ inputs: { ...t.inputs }, outputs: { ...t.outputs } })),
  };
}

/** The turn to remember after a run: its inputs without the history (it does not nest) and all its outputs. */
export function historyItem(shape: ChatShape, inputs: Record<string, unknown>, outputs: Record<string, unknown>): ChatTurn {
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) if (k !== shape.history) kept[k] = v;
  return { inputs: kept, outputs: { ...outputs } };
}

/** The answer of a turn as text: the chat output (a string as is, anything else as JSON); all outputs when none is marked. */
export function answerText(shape: ChatShape, outputs: Record<string, unknown> | null): string {
  if (!outputs) return '';
  const value = shape.output !== undefined ? outputs[shape.output] : outputs;
  if (typeof value === 'string') return value;
  return JSON.stringify(value ?? null, null, 2);
}
