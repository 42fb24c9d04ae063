/**
 * A run's spans in OpenTelemetry's OTLP/JSON shape (what trace.json holds and what an OTLP/HTTP collector
 * takes at POST /v1/traces), the way back for reading trace.json, and the export itself.
 */
import * as path from 'path';
import type { ConnectionSpec } from '../runtime/protocol';
import type { SpanAttributeValue, SpanKind, TraceSpan } from '../../shared/trace';

export interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpAnyValue[] };
}
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 1 internal, 3 client */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  /** code: 0 unset, 1 ok, 2 error */
  status: { code: number; message?: string };
}
export interface OtlpTraces {
  resourceSpans: Array<{
    resource: { attributes: OtlpKeyValue[] };
    scopeSpans: Array<{ scope: { name: string; version?: string }; spans: OtlpSpan[] }>;
  }>;
}

const SPAN_KIND = { internal: 1, client: 3 } as const;
const STATUS_CODE = { Unset: 0, Ok: 1, Error: 2 } as const;
/** spans per export request: a batch of many lines goes in several requests of a sane size */
const SPANS_PER_REQUEST = 2000;
const EXPORT_TIMEOUT_MS = 5000;
/** connection fields that hold secrets (as runtime/flowsession_runtime/connections.py SECRET_FIELDS) */
const SECRET_FIELDS = ['api_key', 'key', 'secret', 'password', 'token'];

export function anyValue(v: SpanAttributeValue): OtlpAnyValue {
  if (Array.isArray(v)) return { arrayValue: { values: v.map((x) => ({ stringValue: x })) } };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  return { stringValue: v };
}

function fromAnyValue(v: OtlpAnyValue | undefined): SpanAttributeValue | undefined {
  if (!v || typeof v !== 'object') return undefined;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (v.intValue !== undefined && Number.isFinite(Number(v.intValue))) return Number(v.intValue);
  if (typeof v.doubleValue === 'number') return v.doubleValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (Array.isArray(v.arrayValue?.values))
    return v.arrayValue.values.map((x) => (typeof x?.stringValue === 'string' ? x.stringValue : '')).filter((x) => x !== '');
  return undefined;
}

export interface TraceResource {
  /** the flow folder's name */
  flow: string;
  runId: string;
  runtimeVersion?: string;
}

/** The resource of a run's trace: its flow folder's name and its id. */
export function traceResource(flowDir: string, runId: string): TraceResource {
  return { flow: path.basename(flowDir), runId };
}

/** One span in OTLP/JSON's shape (recordedSpans.ts writes the same as text for the spans a batch line records). */
function otlpSpan(s: TraceSpan): OtlpSpan {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
    name: s.name,
    kind: s.kind === 'llm' ? SPAN_KIND.client : SPAN_KIND.internal,
    startTimeUnixNano: s.start,
    endTimeUnixNano: s.end,
    attributes: Object.entries(s.attributes).map(([key, value]) => ({ key, value: anyValue(value) })),
    status: { code: STATUS_CODE[s.status] ?? 0, ...(s.statusMessage ? { message: s.statusMessage } : {}) },
  };
}

/** The spans as OTLP/JSON span objects joined by commas, as they go between a document's head and tail. */
export function otlpSpansText(spans: readonly TraceSpan[]): string {
  return spans.map((s) => JSON.stringify(otlpSpan(s))).join(',');
}

/**
 * toOtlp's document as text around its list of spans: head + span objects joined by commas + tail is the whole
 * document, so spans that came as text are written without being parsed.
 */
export function otlpDocumentText(resource: TraceResource): { head: string; tail: string } {
  const text = JSON.stringify(toOtlp([], resource));
  const at = text.indexOf('"spans":[]') + '"spans":['.length;
  return { head: text.slice(0, at), tail: text.slice(at) };
}

/** The spans as one OTLP/JSON document: a resource (service flowsession, the flow, the run) and one scope. */
export function toOtlp(spans: readonly TraceSpan[], resource: TraceResource): OtlpTraces {
  const attributes: OtlpKeyValue[] = [
    { key: 'service.name', value: { stringValue: 'flowsession' } },
    { key: 'flowsession.flow', value: { stringValue: resource.flow } },
    { key: 'flowsession.run_id', value: { stringValue: resource.runId } },
  ];
  return {
    resourceSpans: [
      {
        resource: { attributes },
        scopeSpans: [
          {
            scope: { name: 'flowsession', ...(resource.runtimeVersion ? { version: resource.runtimeVersion } : {}) },
            spans: spans.map(otlpSpan),
          },
        ],
      },
    ],
  };
}

/** a trace or span id as OTLP/JSON writes it: lower-case hex */
export const HEX = /^[0-9a-f]+$/;

/** What a span of a trace.json is: an LLM call is a client span; a node (or flex entry) names itself as one. */
function spanKind(otlpKind: unknown, spanType: SpanAttributeValue | undefined, attributes: Record<string, SpanAttributeValue>): SpanKind {
  if (otlpKind === SPAN_KIND.client) return 'llm';
  if (spanType === 'Flow') return 'flow';
  return attributes['flowsession.node.name'] !== undefined ? 'node' : 'function';
}

/** The spans of a trace.json (OTLP/JSON), for the panel and comparisons; what is not a span is skipped. */
export function fromOtlp(doc: unknown): TraceSpan[] {
  const out: TraceSpan[] = [];
  const resourceSpans = (doc as Partial<OtlpTraces> | null)?.resourceSpans;
  if (!Array.isArray(resourceSpans)) return out;
  for (const rs of resourceSpans)
    for (const ss of Array.isArray(rs?.scopeSpans) ? rs.scopeSpans : [])
      for (const s of Array.isArray(ss?.spans) ? ss.spans : []) {
        if (typeof s?.traceId !== 'string' || typeof s.spanId !== 'string' || !HEX.test(s.traceId) || !HEX.test(s.spanId)) continue;
        const attributes: Record<string, SpanAttributeValue> = {};
        for (const kv of Array.isArray(s.attributes) ? s.attributes : []) {
          const v = fromAnyValue(kv?.value);
          if (typeof kv?.key === 'string' && v !== undefined) attributes[kv.key] = v;
        }
        const spanType = attributes.span_type;
        const code = s.status?.code;
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          ...(typeof s.parentSpanId === 'string' && HEX.test(s.parentSpanId) ? { parentSpanId: s.parentSpanId } : {}),
          name: String(s.name ?? ''),
          kind: spanKind(s.kind, spanType, attributes),
          start: /^\d+$/.test(String(s.startTimeUnixNano)) ? String(s.startTimeUnixNano) : '0',
          end: /^\d+$/.test(String(s.endTimeUnixNano)) ? String(s.endTimeUnixNano) : '0',
          status: code === 2 ? 'Error' : code === 1 ? 'Ok' : 'Unset',
          ...(typeof s.status?.message === 'string' ? { statusMessage: s.status.message } : {}),
          attributes,
        });
      }
  return out;
}

/** Every secret value of the run's connections, as the runtime's redactor knows them. */
export function connectionSecrets(connections: Record<string, ConnectionSpec> | undefined): string[] {
  const out: string[] = [];
  for (const spec of Object.values(connections ?? {})) {
    if (!spec || typeof spec !== 'object') continue;
    for (const f of SECRET_FIELDS) if (typeof spec[f] === 'string') out.push(spec[f] as string);
    if (spec.secrets && typeof spec.secrets === 'object')
      for (const v of Object.values(spec.secrets)) if (typeof v === 'string') out.push(v);
  }
  // as the runtime: values shorter than 4 characters are not worth masking (they would mask everything)
  return [...new Set(out.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
}

/**
 * The spans with every secret replaced by ***: the runtime redacts already, and this second pass keeps a span
 * that came from elsewhere (a changed runtime, user code writing attributes) from carrying a key out.
 */
export function redactSpans(spans: TraceSpan[], secrets: readonly string[]): TraceSpan[] {
  if (secrets.length === 0) return spans;
  const clean = (text: string) => maskSecrets(text, secrets);
  return spans.map((s) => {
    const attributes: Record<string, SpanAttributeValue> = {};
    for (const [k, v] of Object.entries(s.attributes))
      attributes[k] = typeof v === 'string' ? clean(v) : Array.isArray(v) ? v.map(clean) : v;
    return { ...s, name: clean(s.name), attributes, ...(s.statusMessage ? { statusMessage: clean(s.statusMessage) } : {}) };
  });
}

/**
 * What to mask in OTLP/JSON text: each secret as it is and as a JSON string carries it (quotes, backslashes and
 * control characters escaped).
 */
export function secretTextForms(secrets: readonly string[]): string[] {
  return [...new Set(secrets.flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]))];
}

/** `text` with every one of `secrets` replaced by *** (longest first, as connectionSecrets orders them). */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  return secrets.reduce((t, s) => (t.includes(s) ? t.split(s).join('***') : t), text);
}

/** `<endpoint>/v1/traces`, unless the setting names that path already (as OTEL_EXPORTER_OTLP_TRACES_ENDPOINT would). */
export function tracesUrl(endpoint: string): string {
  const base = endpoint.trim().replace(/\/+$/, '');
  return /\/v1\/traces$/.test(base) ? base : `${base}/v1/traces`;
}

/**
 * Sends the spans to an OTLP/HTTP collector (JSON encoding). Resolves with undefined when it took them, or
 * with what went wrong: an export never fails a run, the caller shows it as a warning.
 */
export async function exportOtlp(endpoint: string, spans: readonly TraceSpan[], resource: TraceResource): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(tracesUrl(endpoint));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    return `The OTLP endpoint '${endpoint}' is not an http(s) URL.`;
  }
  for (let i = 0; i < spans.length; i += SPANS_PER_REQUEST) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(toOtlp(spans.slice(i, i + SPANS_PER_REQUEST), resource)),
        signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) return `The OTLP collector at ${url.origin} answered HTTP ${res.status} to the trace export.`;
    } catch (e) {
      const why = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
      return `The trace could not be exported to ${url.origin}: ${why}`;
    }
  }
  return undefined;
}
