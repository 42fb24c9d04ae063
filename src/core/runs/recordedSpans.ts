/**
 * A batch line's own spans (its root and one per step) from the record its lineEnd carries, as OTLP/JSON span text:
 * the same text `otlpSpansText` makes of those spans, written straight from the record. A batch of 10,000 lines of
 * three nodes has 40,000 such spans: made as span objects (in the runtime or here) they cost more than the lines.
 * What every line shares (the trace, the root's parent, each step's name and attributes) comes once, in the batch's
 * traceSteps event, and is written as text once. A record came from the session: every field is checked, and a
 * record that is not one is left out whole.
 */
import { randomBytes } from 'crypto';
import type { LineEndEvent, LineTraceExtra, LineTraceRecord, RecordedStep, TraceStepsEvent } from '../runtime/protocol';
import type { SpanAttributeValue, TraceSpan } from '../../shared/trace';
import { anyValue, HEX, otlpSpansText } from './otlp';

/** a batch line's values in its spans are cut to this many characters (runtime: tracing.BATCH_VALUE_LIMIT) */
const BATCH_VALUE_LIMIT = 1024;
/** what follows a cut value (runtime: wire.TRUNCATED) */
const TRUNCATED = '[truncated]';
const MAX_TEXT = BATCH_VALUE_LIMIT + TRUNCATED.length;
/** a status message is cut to this many characters (runtime: tracing.VALUE_LIMIT) */
const MESSAGE_LIMIT = 4096;
const ID_DIGITS = 16;

/** A line's own spans as text, and the spans made inside its steps (for their tokens). */
export interface LineSpansText {
  /** OTLP/JSON span objects joined by commas */
  text: string;
  count: number;
  inner: TraceSpan[];
}

function attributeText(key: string, value: SpanAttributeValue): string {
  return JSON.stringify({ key, value: anyValue(value) });
}

function isAttributeValue(v: unknown): v is SpanAttributeValue {
  return (
    typeof v === 'string' ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v)) ||
    (Array.isArray(v) && v.every((x) => typeof x === 'string'))
  );
}

/**
 * A value's attribute text as the runtime's tracing.value_text makes it (text as it is, anything else as JSON, cut),
 * as a JSON string.
 */
function valueString(value: unknown): string {
  // the runtime's text is cut already: what is longer did not come from it
  if (typeof value === 'string') return value.length > MAX_TEXT ? textString(value) : JSON.stringify(value);
  // a number's JSON text needs no escaping
  if (typeof value === 'number') return Number.isFinite(value) ? `"${value}"` : '"null"';
  return textString(JSON.stringify(value) ?? 'null');
}

/** A text as the runtime's value_text gives it: cut past BATCH_VALUE_LIMIT, as a JSON string. */
function textString(text: string): string {
  return JSON.stringify(text.length > BATCH_VALUE_LIMIT ? text.slice(0, BATCH_VALUE_LIMIT) + TRUNCATED : text);
}

/** A value's JSON text as the runtime writes it, for a value it sends only when the two agree (a plain one). */
function jsonText(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  return JSON.stringify(value) ?? 'null';
}

const INPUTS_ATTRIBUTE = ',{"key":"flowsession.inputs","value":{"stringValue":';
const OUTPUT_ATTRIBUTE = ',{"key":"flowsession.output","value":{"stringValue":';

function isOffset(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** A time `offset` nanoseconds after `start` (Unix nanoseconds as decimal text), as decimal text. */
class Clock {
  private readonly seconds: number;
  private readonly secondsText: string;
  private readonly nanos: number;
  constructor(start: string) {
    this.secondsText = start.slice(0, -9);
    this.seconds = Number(this.secondsText || '0');
    this.nanos = Number(start.slice(-9));
  }
  at(offset: number): string {
    const t = this.nanos + offset;
    // within the start's second (most of a line's times): its digits, then the nanoseconds' nine
    if (t < 1e9 && this.seconds) return t >= 1e8 ? `${this.secondsText}${t}` : this.secondsText + String(1e9 + t).slice(1);
    const carry = Math.floor(t / 1e9);
    const seconds = this.seconds + carry;
    const nanos = String(t - carry * 1e9);
    return seconds ? `${seconds}${nanos.padStart(9, '0')}` : nanos;
  }
}

/** Span ids for the lines whose record came without them: hex digits of one random draw, taken as lines need them. */
class IdDigits {
  private digits = '';
  private at = 0;
  take(count: number): string {
    if (this.at + count > this.digits.length) {
      this.digits = randomBytes(Math.max(32 * 1024, count)).toString('hex');
      this.at = 0;
    }
    this.at += count;
    return this.digits.slice(this.at - count, this.at);
  }
}

/** Where a step's input comes from when a line's record names it (inputs: true): the text before its value, then it. */
interface InputSource {
  /** `{` or `,`, the input's name as JSON, `:` */
  prefix: string;
  /** a flow input (the lineEnd's inputs), a step's output (the record's), or a literal's JSON text */
  input?: string;
  step?: number;
  text?: string;
}

interface StepText {
  /** the span's text from its name to the start time's value */
  head: string;
  /** the span's text from the end time's value to its first own attribute */
  middle: string;
  /** where the step's inputs come from, when the table names them */
  sources?: InputSource[];
}

/** The table's `inputs` of a step, checked; undefined when it names none or is not such a list. */
function inputSources(entries: unknown): InputSource[] | undefined {
  if (!Array.isArray(entries)) return undefined;
  const out: InputSource[] = [];
  for (const entry of entries) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') return undefined;
    const [key, kind, what] = entry as unknown[];
    const prefix = `${out.length ? ',' : '{'}${JSON.stringify(key)}:`;
    if (kind === 'input' && typeof what === 'string') out.push({ prefix, input: what });
    else if (kind === 'step' && isOffset(what)) out.push({ prefix, step: what });
    else if (kind === 'value' && typeof what === 'string') out.push({ prefix, text: what });
    else return undefined;
  }
  return out;
}

/** The line's input of that name (not a property every object has, as the runtime has no such input). */
function ownValue(inputs: Record<string, unknown> | undefined, name: string): unknown {
  return inputs && Object.hasOwn(inputs, name) ? inputs[name] : undefined;
}

/** A step's inputs as the JSON text of their dict, from where the table says each comes. */
function namedInputs(sources: InputSource[], inputs: Record<string, unknown> | undefined, outputs: unknown[]): string {
  let text = '';
  for (const source of sources) {
    text += source.prefix + (source.text ?? jsonText(source.step !== undefined ? outputs[source.step] : ownValue(inputs, source.input!)));
  }
  return text ? `${text}}` : '{}';
}

export class RecordedSpans {
  private readonly traceId: string;
  private readonly parentSpanId: string;
  private readonly steps: StepText[] = [];
  /** the root's attributes up to the line's number in its run id */
  private readonly rootHead: string;
  private readonly idDigits = new IdDigits();

  /** From the batch's traceSteps event; throws when it is not one (the batch's lines are then not traced). */
  constructor(table: TraceStepsEvent, runId: string) {
    if (
      typeof table.traceId !== 'string' ||
      !HEX.test(table.traceId) ||
      typeof table.parentSpanId !== 'string' ||
      !HEX.test(table.parentSpanId)
    )
      throw new Error('the traceSteps event names no trace');
    if (!Array.isArray(table.steps)) throw new Error('the traceSteps event has no steps');
    this.traceId = table.traceId;
    this.parentSpanId = table.parentSpanId;
    const runIdText = JSON.stringify(`${runId}_`);
    this.rootHead = `{"key":"span_type","value":{"stringValue":"Flow"}},{"key":"flowsession.run_id","value":{"stringValue":${runIdText.slice(0, -1)}`;
    for (const step of table.steps) {
      const name = typeof step?.name === 'string' ? step.name : '';
      const attributes = Object.entries(typeof step?.attributes === 'object' && step.attributes !== null ? step.attributes : {})
        .filter(([, v]) => isAttributeValue(v))
        .map(([k, v]) => attributeText(k, v));
      this.steps.push({
        head: `","name":${JSON.stringify(name)},"kind":1,"startTimeUnixNano":"`,
        middle: `","attributes":[${attributes.join(',')}${attributes.length ? ',' : ''}`,
        sources: inputSources(step?.inputs),
      });
    }
  }

  /** The line's own spans and those made inside its steps, as text; undefined when its record is not one. */
  lineText(line: LineEndEvent, record: LineTraceRecord): LineSpansText | undefined {
    if (!isRecord(record) || !Number.isSafeInteger(line.index) || line.index < 0) return undefined;
    const [start, end, given, ok, steps, extra = {}] = record;
    const ids = given || this.idDigits.take(ID_DIGITS * (1 + this.steps.length));
    const clock = new Clock(start);
    const rootId = ids.slice(0, ID_DIGITS);
    const head = `{"traceId":"${this.traceId}","spanId":"`;
    let text = '';
    // the steps' outputs by their index, as far as they have ended: where named inputs come from
    const outputs: unknown[] = [];
    for (const step of steps) {
      if (!isStep(step)) return undefined;
      const table = this.steps[step[0]];
      const spanId = ids.slice(ID_DIGITS * (step[0] + 1), ID_DIGITS * (step[0] + 2));
      if (!table || spanId.length !== ID_DIGITS) return undefined;
      const [index, began, ended, inputs, output, status = 'Completed', errorType, message] = step;
      let inputsText = '';
      if (inputs === true) {
        if (!table.sources) return undefined;
        inputsText = textString(namedInputs(table.sources, line.inputs, outputs));
      } else if (inputs !== null && inputs !== undefined) {
        inputsText = valueString(inputs);
      }
      outputs[index] = status === 'Completed' ? output : null;
      text +=
        `${head}${spanId}","parentSpanId":"${rootId}${table.head}${clock.at(began)}","endTimeUnixNano":"${clock.at(ended)}` +
        `${table.middle}{"key":"flowsession.status","value":{"stringValue":${status === 'Completed' ? '"Completed"' : JSON.stringify(status)}}}` +
        (inputsText ? `${INPUTS_ATTRIBUTE}${inputsText}}}` : '') +
        (status === 'Completed' ? `${OUTPUT_ATTRIBUTE}${valueString(output)}}}` : '') +
        (typeof errorType === 'string' ? `,${attributeText('error.type', errorType)}` : '') +
        `],"status":{"code":${status === 'Failed' ? 2 : 1}${typeof message === 'string' && message ? `,"message":${JSON.stringify(message.slice(0, MESSAGE_LIMIT))}` : ''}}},`;
    }
    const inputs = 'inputs' in extra ? extra.inputs : line.inputs;
    const output = 'output' in extra ? extra.output : line.output;
    text +=
      `${head}${rootId}","parentSpanId":"${this.parentSpanId}","name":"line ${line.index}","kind":1,` +
      `"startTimeUnixNano":"${clock.at(0)}","endTimeUnixNano":"${clock.at(end)}","attributes":[` +
      `${this.rootHead}${line.index}"}},{"key":"flowsession.line_number","value":{"intValue":"${line.index}"}}` +
      (inputs === null || inputs === undefined ? '' : `${INPUTS_ATTRIBUTE}${valueString(inputs)}}}`) +
      (output === null || output === undefined ? '' : `${OUTPUT_ATTRIBUTE}${valueString(output)}}}`) +
      `],"status":{"code":${ok ? 1 : 2}${extra.message ? `,"message":${JSON.stringify(extra.message.slice(0, MESSAGE_LIMIT))}` : ''}}}`;
    const inner = extra.spans ?? [];
    if (inner.length) text += `,${otlpSpansText(inner)}`;
    return { text, count: 1 + steps.length + inner.length, inner };
  }
}

function isRecord(r: unknown): r is LineTraceRecord {
  if (!Array.isArray(r) || r.length < 5 || r.length > 6) return false;
  const [start, end, ids, ok, steps, extra] = r as unknown[];
  if (
    typeof start !== 'string' ||
    !/^\d{1,20}$/.test(start) ||
    !isOffset(end) ||
    typeof ids !== 'string' ||
    (ids !== '' && (ids.length < ID_DIGITS || !HEX.test(ids))) ||
    typeof ok !== 'boolean' ||
    !Array.isArray(steps)
  )
    return false;
  if (extra === undefined) return true;
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) return false;
  const { message, spans } = extra as LineTraceExtra;
  return (
    (message === undefined || typeof message === 'string') && (spans === undefined || (Array.isArray(spans) && spans.every(isWireSpan)))
  );
}

function isStep(step: unknown): step is RecordedStep {
  if (!Array.isArray(step) || step.length < 5) return false;
  const [index, start, end, , , status, errorType, message] = step as unknown[];
  return (
    isOffset(index) &&
    isOffset(start) &&
    isOffset(end) &&
    (status === undefined || typeof status === 'string') &&
    (errorType === undefined || errorType === null || typeof errorType === 'string') &&
    (message === undefined || message === null || typeof message === 'string')
  );
}

const SPAN_KINDS = new Set(['flow', 'node', 'function', 'llm']);
const STATUSES = new Set(['Ok', 'Error', 'Unset']);

/** A span as the runtime sends it whole (tracing.Span.to_wire): what otlpSpansText needs of it, checked. */
function isWireSpan(s: unknown): s is TraceSpan {
  if (typeof s !== 'object' || s === null) return false;
  const span = s as Partial<TraceSpan>;
  return (
    typeof span.traceId === 'string' &&
    HEX.test(span.traceId) &&
    typeof span.spanId === 'string' &&
    HEX.test(span.spanId) &&
    (span.parentSpanId === undefined || (typeof span.parentSpanId === 'string' && HEX.test(span.parentSpanId))) &&
    typeof span.name === 'string' &&
    SPAN_KINDS.has(span.kind as string) &&
    typeof span.start === 'string' &&
    /^\d{1,20}$/.test(span.start) &&
    typeof span.end === 'string' &&
    /^\d{1,20}$/.test(span.end) &&
    STATUSES.has(span.status as string) &&
    (span.statusMessage === undefined || typeof span.statusMessage === 'string') &&
    typeof span.attributes === 'object' &&
    span.attributes !== null &&
    !Array.isArray(span.attributes) &&
    Object.values(span.attributes).every(isAttributeValue)
  );
}
