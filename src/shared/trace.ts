/**
 * A run's trace as the runtime records it (runtime/flowsession_runtime/tracing.py): one span per flow line,
 * node and LLM call, and what is read from it — token totals per node and per run, and the rows of a
 * timeline. Used by the run store (trace.json, the OTLP export), the CLI and the panel alike.
 */

/** a list only of strings (gen_ai.response.finish_reasons) */
export type SpanAttributeValue = string | number | boolean | string[];

export type SpanKind = 'flow' | 'node' | 'function' | 'llm';

/** One span; times are Unix nanoseconds as decimal strings (a JSON number cannot hold them). */
export interface TraceSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /**
   * flow: a run's line (or a batch, or its aggregation); node: a node (or a flex flow's entry, a prompty); function:
   * a call of a function decorated with prompt flow's `@trace`; llm: one OpenAI API request
   */
  kind: SpanKind;
  start: string;
  end: string;
  status: 'Ok' | 'Error' | 'Unset';
  statusMessage?: string;
  attributes: Record<string, SpanAttributeValue>;
}

export interface TokenUsage {
  input: number;
  output: number;
  total: number;
}

export interface TraceTotals {
  /** every LLM call of the run */
  run: TokenUsage;
  /** node name -> the LLM calls made while it ran (all lines of a batch together) */
  byNode: Record<string, TokenUsage>;
  llmCalls: number;
}

export const NO_TOKENS: TokenUsage = { input: 0, output: 0, total: 0 };

function num(v: SpanAttributeValue | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}

/** The tokens of one LLM span, from the API's `usage` (total = input + output when the API gave no total). */
export function spanTokens(span: TraceSpan): TokenUsage {
  const input = num(span.attributes['gen_ai.usage.input_tokens']);
  const output = num(span.attributes['gen_ai.usage.output_tokens']);
  const total = num(span.attributes['flowsession.usage.total_tokens']) || input + output;
  return { input, output, total };
}

export function addTokens(a: TokenUsage, b: TokenUsage): TokenUsage {
  return { input: a.input + b.input, output: a.output + b.output, total: a.total + b.total };
}

/** The node span an LLM span belongs to: the nearest ancestor of kind node. */
function owningNode(span: TraceSpan, byId: Map<string, TraceSpan>): TraceSpan | undefined {
  let cur = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
  for (let hops = 0; cur && hops < 64; hops++) {
    if (cur.kind === 'node') return cur;
    cur = cur.parentSpanId ? byId.get(cur.parentSpanId) : undefined;
  }
  return undefined;
}

/** Token totals of a run or batch, per node and overall. */
export function traceTotals(spans: readonly TraceSpan[]): TraceTotals {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const byNode: Record<string, TokenUsage> = {};
  let run = NO_TOKENS;
  let llmCalls = 0;
  for (const s of spans) {
    if (s.kind !== 'llm') continue;
    llmCalls++;
    const t = spanTokens(s);
    run = addTokens(run, t);
    const node = owningNode(s, byId);
    const name = node ? String(node.attributes['flowsession.node.name'] ?? node.name) : '(outside a node)';
    byNode[name] = addTokens(byNode[name] ?? NO_TOKENS, t);
  }
  return { run, byNode, llmCalls };
}

/** "1,234 tokens (1,000 in, 234 out)" */
export function tokensText(t: TokenUsage): string {
  const f = (n: number) => n.toLocaleString('en-US');
  return `${f(t.total)} tokens (${f(t.input)} in, ${f(t.output)} out)`;
}

/** A span as the timeline draws it: offsets in ms from the trace's start, depth in the span tree. */
export interface TimelineRow {
  spanId: string;
  name: string;
  kind: TraceSpan['kind'];
  depth: number;
  startMs: number;
  durationMs: number;
  status: TraceSpan['status'];
  message?: string;
  /** the span's own tokens (an LLM span) or its LLM calls' (a node or a line) */
  tokens?: TokenUsage;
  model?: string;
}

export interface Timeline {
  rows: TimelineRow[];
  totalMs: number;
  totals: TraceTotals;
  /** rows left out past the limit */
  omitted: number;
}

function nanos(s: string): bigint {
  try {
    return BigInt(s);
  } catch {
    return 0n;
  }
}

/**
 * The rows of a timeline: spans depth-first in start order under their parents, each with its offset and
 * length, and tokens summed up the tree. At most `limit` rows (a batch of many lines keeps its first ones).
 */
export function timeline(spans: readonly TraceSpan[], limit = 500): Timeline {
  const totals = traceTotals(spans);
  if (spans.length === 0) return { rows: [], totalMs: 0, totals, omitted: 0 };
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, TraceSpan[]>();
  const roots: TraceSpan[] = [];
  for (const s of spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else roots.push(s);
  }
  const byStart = (a: TraceSpan, b: TraceSpan) => {
    const d = nanos(a.start) - nanos(b.start);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  };
  let t0 = nanos(spans[0].start);
  let t1 = nanos(spans[0].end);
  for (const s of spans) {
    if (nanos(s.start) < t0) t0 = nanos(s.start);
    if (nanos(s.end) > t1) t1 = nanos(s.end);
  }
  const ms = (n: bigint) => Number(n) / 1e6;
  // tokens of each span's subtree
  const tokensOf = new Map<string, TokenUsage>();
  const subtree = (s: TraceSpan, depth: number): TokenUsage => {
    let t = s.kind === 'llm' ? spanTokens(s) : NO_TOKENS;
    if (depth < 64) for (const c of children.get(s.spanId) ?? []) t = addTokens(t, subtree(c, depth + 1));
    tokensOf.set(s.spanId, t);
    return t;
  };
  for (const r of roots) subtree(r, 0);
  const rows: TimelineRow[] = [];
  let omitted = 0;
  const walk = (s: TraceSpan, depth: number) => {
    if (rows.length >= limit) {
      omitted++;
    } else {
      const tokens = tokensOf.get(s.spanId);
      const model = s.attributes['gen_ai.response.model'] ?? s.attributes['gen_ai.request.model'];
      rows.push({
        spanId: s.spanId,
        name: s.name,
        kind: s.kind,
        depth,
        startMs: ms(nanos(s.start) - t0),
        durationMs: Math.max(0, ms(nanos(s.end) - nanos(s.start))),
        status: s.status,
        ...(s.statusMessage ? { message: s.statusMessage } : {}),
        ...(tokens && tokens.total > 0 ? { tokens } : {}),
        ...(typeof model === 'string' ? { model } : {}),
      });
    }
    if (depth < 64) for (const c of [...(children.get(s.spanId) ?? [])].sort(byStart)) walk(c, depth + 1);
  };
  for (const r of [...roots].sort(byStart)) walk(r, 0);
  return { rows, totalMs: ms(t1 - t0), totals, omitted };
}
