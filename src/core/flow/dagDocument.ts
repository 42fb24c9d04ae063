import type { Alias, Document, LineCounter, Node } from 'yaml';
import type * as Yaml from 'yaml';
import { yaml } from '../vendor';

const isAlias: typeof Yaml.isAlias = ((n: unknown) => yaml().isAlias(n)) as typeof Yaml.isAlias;
const isMap: typeof Yaml.isMap = ((n: unknown) => yaml().isMap(n)) as typeof Yaml.isMap;
const isPair: typeof Yaml.isPair = ((n: unknown) => yaml().isPair(n)) as typeof Yaml.isPair;
const isScalar: typeof Yaml.isScalar = ((n: unknown) => yaml().isScalar(n)) as typeof Yaml.isScalar;
const isSeq: typeof Yaml.isSeq = ((n: unknown) => yaml().isSeq(n)) as typeof Yaml.isSeq;
import { FlowProblem } from './problem';

/** A YAML path as the runtime reports it: map keys and sequence indexes from the document root. */
export type YamlPath = ReadonlyArray<string | number>;

/** 1-based, end exclusive. */
export interface SourceRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface ParsedFlow {
  text: string;
  doc: Document.Parsed | undefined;
  lineCounter: LineCounter;
  /** The flow as plain JSON, undefined when the text could not be parsed. */
  value: unknown;
  /** Problems that stop any further check: encoding, size, syntax, alias bombs. */
  problems: FlowProblem[];
  file: string;
}

export const FLOW_FILE = 'flow.dag.yaml';
export const MAX_FLOW_BYTES = 5 * 1024 * 1024;
/** Same default as the yaml package; stated so a future default change cannot reopen billion-laughs. */
const MAX_ALIAS_COUNT = 100;

/**
 * The yaml package exhausts memory (a fatal, uncatchable error) on some ten thousand nested
 * `[`; no real flow nests flow collections this deep.
 */
const MAX_FLOW_DEPTH = 256;

const START: SourceRange = { line: 1, column: 1, endLine: 1, endColumn: 2 };

/**
 * Parses flow.dag.yaml keeping source positions. Never throws: every failure becomes a
 * `YamlParseError` problem (the code prompt flow's own YAML loader raises).
 */
export function parseFlowDocument(input: string | Uint8Array, file = FLOW_FILE): ParsedFlow {
  const lineCounter = new (yaml().LineCounter)();
  const fail = (message: string, range: SourceRange = START, text = ''): ParsedFlow => ({
    text,
    doc: undefined,
    lineCounter,
    value: undefined,
    file,
    problems: [
      { code: 'YamlParseError', message: `Error while parsing yaml file: ${file}. ${message}`, file, ...range, severity: 'error' },
    ],
  });

  const size = typeof input === 'string' ? input.length : input.byteLength;
  if (size > MAX_FLOW_BYTES) return { ...fail(''), problems: [tooLargeProblem(size, file)] };
  const text = decode(input);
  if (text === undefined) return fail('The file is not valid UTF-8 text.');
  const nul = text.indexOf('\0');
  if (nul >= 0) return fail('The file contains binary data (a NUL character), not YAML text.');

  if (flowNestingDepth(text) > MAX_FLOW_DEPTH) {
    return fail(`Flow collections ([ ] and { }) are nested more than ${MAX_FLOW_DEPTH} levels deep.`, START, text);
  }
  let doc: Document.Parsed;
  try {
    doc = yaml().parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  } catch (e) {
    // the parser recurses per nesting level; a pathological document can exhaust the stack
    return fail(`The document could not be parsed (${e instanceof Error ? e.message : String(e)}).`, START, text);
  }
  const base = { text, doc, lineCounter, file };
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((err): FlowProblem => ({
      code: 'YamlParseError',
      message: `Error while parsing yaml file: ${file}. ${err.message}`,
      file,
      ...offsetsToRange(lineCounter, text, err.pos[0], Math.max(err.pos[1], err.pos[0] + 1)),
      severity: 'error',
    }));
    return { ...base, value: undefined, problems };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (e) {
    const message =
      e instanceof ReferenceError && /alias/i.test(e.message)
        ? 'Excessive use of YAML aliases (a resource exhaustion attack, or a document too large to expand).'
        : `The document could not be read (${e instanceof Error ? e.message : String(e)}).`;
    return { ...fail(message, START, text), doc };
  }
  return { ...base, value, problems: [] };
}

/** The problem for a flow file over MAX_FLOW_BYTES, so callers can refuse it before reading it. */
export function tooLargeProblem(bytes: number, file = FLOW_FILE): FlowProblem {
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  return {
    code: 'YamlParseError',
    message: `Error while parsing yaml file: ${file}. The file is ${mb(bytes)} MB; a flow definition may be at most ${mb(MAX_FLOW_BYTES)} MB.`,
    file,
    ...START,
    severity: 'error',
  };
}

/** An upper bound of `[`/`{` nesting outside quoted scalars and comments; cheap, one pass. */
function flowNestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) {
        if (quote === "'" && text[i + 1] === "'") i++;
        else quote = '';
      } else if (c === '\\' && quote === '"') i++;
      else if (c === '\n' && depth === 0) quote = '';
      continue;
    }
    if (c === '[' || c === '{') {
      if (++depth > max) max = depth;
    } else if (c === ']' || c === '}') {
      if (depth > 0) depth--;
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s,[{:]/.test(text[i - 1]))) {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl - 1;
    } else if (c === '\n' && depth > 0 && i + 1 < text.length && /[^\s\]}]/.test(text[i + 1])) {
      // a line starting at column 1 ends any flow collection left open above it
      depth = 0;
    }
  }
  return max;
}

function decode(input: string | Uint8Array): string | undefined {
  if (typeof input === 'string') return input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  try {
    // fatal: a latin-1 or binary file must be reported, not silently read with replacement characters
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(input);
  } catch {
    return undefined;
  }
}

/**
 * The range of the YAML node at `path`; when a segment does not exist, the range of the nearest
 * existing parent (the runtime reports inputs by path even when they are absent from the file).
 * `on: 'key'` places a map entry on its key instead of its value.
 */
export function rangeOfPath(parsed: ParsedFlow, path: YamlPath, opts: { on?: 'key' | 'value' } = {}): SourceRange {
  const doc = parsed.doc;
  if (!doc || !doc.contents) return START;
  let node: Node | null = doc.contents as Node;
  let best: Node = node;
  let bestKey: Node | undefined;
  let last = false;
  for (let i = 0; i < path.length && node; i++) {
    const resolved = resolveAlias(doc, node);
    const entry = resolved && childOf(doc, resolved, path[i]);
    if (!entry) break;
    node = entry.value;
    last = i === path.length - 1;
    if (node && hasExtent(node)) {
      best = node;
      bestKey = entry.key;
    } else if (entry.key) {
      best = entry.key;
      bestKey = undefined;
    }
  }
  // a block collection starts at its first child; its key names it better
  if (bestKey && ((last && opts.on === 'key') || isMap(best) || isSeq(best))) best = bestKey;
  return nodeRange(parsed, best);
}

/** Parses `text` and locates `path` in one call, for callers that only hold the text. */
export function rangeOfYamlPath(text: string, path: YamlPath): SourceRange {
  return rangeOfPath(parseFlowDocument(text), path);
}

function hasExtent(node: Node): boolean {
  const r = node.range;
  return !!r && r[1] > r[0];
}

interface Entry {
  key?: Node;
  value: Node | null;
}

function childOf(doc: Document.Parsed, node: Node, segment: string | number, depth = 0): Entry | undefined {
  if (isSeq(node)) {
    const idx = typeof segment === 'number' ? segment : Number(segment);
    if (!Number.isInteger(idx) || idx < 0 || idx >= node.items.length) return undefined;
    return { value: (node.items[idx] as Node | null) ?? null };
  }
  if (!isMap(node)) return undefined;
  let merged: Node[] = [];
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    const key = pair.key as Node | null;
    const keyValue = isScalar(key) ? key.value : undefined;
    // with merge keys enabled the key's value is a symbol; its source text is still `<<`
    if (key && (keyValue === '<<' || (typeof keyValue === 'symbol' && (key as { source?: string }).source === '<<'))) {
      merged = mergeSources(doc, pair.value as Node | null);
      continue;
    }
    if (keyValue !== undefined && keyValue !== null && typeof keyValue !== 'symbol' && String(keyValue) === String(segment)) {
      return { key: key ?? undefined, value: (pair.value as Node | null) ?? null };
    }
  }
  // merge keys: the entry is written in the anchored map, so that is where it is placed
  if (depth < 8) {
    for (const src of merged) {
      const found = childOf(doc, src, segment, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

function mergeSources(doc: Document.Parsed, value: Node | null): Node[] {
  const v = value ? resolveAlias(doc, value) : undefined;
  if (!v) return [];
  if (isSeq(v)) return v.items.map((i) => resolveAlias(doc, i as Node)).filter((n): n is Node => !!n);
  return [v];
}

function resolveAlias(doc: Document.Parsed, node: Node): Node | undefined {
  let n: Node | undefined = node;
  for (let hops = 0; n && isAlias(n) && hops < 16; hops++) {
    n = (n as Alias).resolve(doc) as Node | undefined;
  }
  return n && !isAlias(n) ? n : undefined;
}

export function nodeRange(parsed: ParsedFlow, node: Node): SourceRange {
  const r = node.range;
  if (!r) return START;
  return offsetsToRange(parsed.lineCounter, parsed.text, r[0], r[1]);
}

function offsetsToRange(lc: LineCounter, text: string, start: number, end: number): SourceRange {
  let e = Math.min(end, text.length);
  // block collections end after their trailing newline; the problem belongs to the last character
  while (e > start + 1 && /\s/.test(text[e - 1])) e--;
  if (e <= start) e = start + 1;
  const s = lc.linePos(start);
  const f = lc.linePos(e);
  return { line: s.line, column: s.col, endLine: f.line, endColumn: f.col };
}
