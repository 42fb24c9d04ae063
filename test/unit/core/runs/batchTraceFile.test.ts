import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { BatchTraceFile } from '../../../../src/core/runs/batchTraceFile';
import { fromOtlp, isOtlpSpanList, otlpDocumentText, otlpSpansText, toOtlp } from '../../../../src/core/runs/otlp';
import type { TraceSpan } from '../../../../src/shared/trace';
import { waitUntil } from '../../../support/waiting';

const span = (id: string, parent: string | undefined, name: string, attributes: TraceSpan['attributes'] = {}): TraceSpan => ({
  traceId: 'ab'.repeat(16),
  spanId: id.repeat(8),
  ...(parent ? { parentSpanId: parent.repeat(8) } : {}),
  name,
  kind: name.startsWith('chat') ? 'llm' : name.startsWith('line') ? 'flow' : 'node',
  start: '1700000000000000000',
  end: '1700000000100000000',
  status: 'Ok',
  attributes,
});
const ROOT = span('01', undefined, 'batch', { span_type: 'Flow' });
const LINE_0 = [
  span('02', '01', 'line 0', { 'flowsession.line_number': 0 }),
  span('03', '02', 'ask', { 'flowsession.output': 'key sk-secret-9 sk-q"uote' }),
];
const LINE_1 = [
  span('04', '01', 'line 1', { 'flowsession.line_number': 1 }),
  span('05', '04', 'chat gpt-4o', { 'gen_ai.usage.input_tokens': 3 }),
];
/** a traceChunk as the runtime sends it */
const chunk = (spans: TraceSpan[]) => zlib.deflateSync(Buffer.from(otlpSpansText(spans))).toString('base64');

describe('a batch trace file', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-trace-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const resource = { flow: 'f', runId: 'r' };

  it('is the OTLP document of the lines as they came and then the root span, with secrets masked', async () => {
    const trace = new BatchTraceFile(path.join(dir, 'trace.json'), ['sk-secret-9', 'sk-q"uote'], resource);
    trace.add(chunk(LINE_0));
    trace.add(chunk(LINE_1));
    const file = await trace.finish([ROOT]);
    const text = fs.readFileSync(file!, 'utf8');
    assert.ok(!text.includes('sk-secret-9') && !text.includes('sk-q'), text);
    const spans = fromOtlp(JSON.parse(text));
    assert.deepStrictEqual(
      spans.map((s) => s.name),
      ['line 0', 'ask', 'line 1', 'chat gpt-4o', 'batch'],
    );
    assert.strictEqual(spans[1].attributes['flowsession.output'], 'key *** ***');
    assert.deepStrictEqual(spans[3], LINE_1[1], 'an LLM span round-trips');
    assert.deepStrictEqual(fs.readdirSync(dir), ['trace.json'], 'no temporary file is left');
  });

  it('is toOtlp of the same spans, byte for byte, when nothing is secret', async () => {
    const trace = new BatchTraceFile(path.join(dir, 'trace.json'), [], resource);
    trace.add(chunk(LINE_0));
    const file = await trace.finish([ROOT]);
    assert.strictEqual(fs.readFileSync(file!, 'utf8'), `${JSON.stringify(toOtlp([...LINE_0, ROOT], resource))}\n`);
    const { head, tail } = otlpDocumentText(resource);
    assert.strictEqual(head + tail, JSON.stringify(toOtlp([], resource)));
  });

  it('leaves out what cannot be read: not base64 of deflated span objects, a deflate bomb', async () => {
    const trace = new BatchTraceFile(path.join(dir, 'trace.json'), [], resource);
    trace.add('%%% not base64');
    trace.add(zlib.deflateSync(Buffer.from('not spans')).toString('base64'));
    trace.add(zlib.deflateSync(Buffer.alloc(64 * 1024 * 1024, '{')).toString('base64'));
    trace.add(chunk(LINE_1));
    const file = await trace.finish([ROOT]);
    assert.strictEqual(trace.unreadable, 3);
    assert.deepStrictEqual(
      fromOtlp(JSON.parse(fs.readFileSync(file!, 'utf8'))).map((s) => s.name),
      ['line 1', 'chat gpt-4o', 'batch'],
    );
  });

  it('keeps non-ASCII text as it came, masks a non-ASCII secret and leaves out a piece that is not UTF-8', async () => {
    const trace = new BatchTraceFile(path.join(dir, 'trace.json'), ['clé-secrète-ü'], resource);
    trace.add(chunk([span('02', '01', 'línea 0 ✓', { 'flowsession.output': 'dit "clé-secrète-ü" — 雪' })]));
    const notUtf8 = Buffer.concat([Buffer.from(otlpSpansText([span('04', '01', 'line 1')]).slice(0, 60)), Buffer.from([0xc3, 0x28])]);
    trace.add(zlib.deflateSync(Buffer.concat([notUtf8, Buffer.from(otlpSpansText([span('04', '01', 'x')]).slice(60))])).toString('base64'));
    const file = await trace.finish([ROOT]);
    assert.strictEqual(trace.unreadable, 1);
    const spans = fromOtlp(JSON.parse(fs.readFileSync(file!, 'utf8')));
    assert.deepStrictEqual(
      spans.map((s) => [s.name, s.attributes['flowsession.output']]),
      [
        ['línea 0 ✓', 'dit "***" — 雪'],
        ['batch', undefined],
      ],
    );
  });

  it('writes nothing without spans, and nothing after an abort', async () => {
    assert.strictEqual(await new BatchTraceFile(path.join(dir, 'trace.json'), [], resource).finish([]), undefined);
    const trace = new BatchTraceFile(path.join(dir, 'trace.json'), [], resource);
    trace.add(chunk(LINE_0));
    await trace.abort();
    assert.deepStrictEqual(fs.readdirSync(dir), []);
  });

  it('writes a large trace into a file as it comes, which becomes trace.json, the root span last', async () => {
    const trace = new BatchTraceFile(path.join(dir, 'trace.json'), ['sk-secret-9'], resource);
    const lines = Array.from({ length: 1000 }, (_, i) => [
      span('02', '01', `line ${i}`, { 'flowsession.line_number': i }),
      span('03', '02', 'ask', { 'flowsession.output': `sk-secret-9 ${'x'.repeat(9000)}` }),
    ]);
    for (const line of lines) trace.add(chunk(line));
    await waitUntil('past 8 MB the document is written as the spans come', 10_000, () =>
      fs.readdirSync(dir).some((f) => f.endsWith('.partial')),
    );
    const file = await trace.finish([ROOT]);
    const spans = fromOtlp(JSON.parse(fs.readFileSync(file!, 'utf8')));
    assert.strictEqual(spans.length, 2001);
    assert.deepStrictEqual(
      spans.slice(0, 2).map((s) => s.name),
      ['line 0', 'ask'],
    );
    assert.strictEqual(spans[1999].name, 'ask');
    assert.strictEqual(spans[2000].name, 'batch');
    assert.ok(spans.every((s) => !String(s.attributes['flowsession.output'] ?? '').includes('sk-secret-9')));
    assert.deepStrictEqual(fs.readdirSync(dir), ['trace.json'], 'no temporary file is left');
  });

  it('keeps the lines only when there is no root span', async () => {
    const trace = new BatchTraceFile(path.join(dir, 'trace.json'), [], resource);
    trace.add(chunk(LINE_0));
    const file = await trace.finish([]);
    assert.deepStrictEqual(
      fromOtlp(JSON.parse(fs.readFileSync(file!, 'utf8'))).map((s) => s.name),
      ['line 0', 'ask'],
    );
  });
});

describe('the shape of OTLP span text from a session', () => {
  const odd: TraceSpan = {
    ...span('0a', '0b', 'tricky "name" \\ é \n\t\u0001 \u2028'),
    status: 'Error',
    statusMessage: 'bad ] } , "quote"',
    attributes: { s: ']}]}', i: -3, d: 0.25, e: 1e-7, t: true, f: false, list: ['a', '"b"'], empty: [], nan: NaN },
  };

  it('takes what otlpSpansText (and the runtime, which writes the same) makes of any span', () => {
    assert.ok(isOtlpSpanList(otlpSpansText([odd])));
    assert.ok(isOtlpSpanList(otlpSpansText([...LINE_0, ...LINE_1, odd, ROOT])));
  });

  it('refuses anything else: a list closed early, keys added or missing, raw control characters, upper-case ids', () => {
    const one = otlpSpansText([LINE_0[0]]);
    for (const bad of [
      '',
      `${one},`,
      `${one}]}]},"extra":{"x":[{}`,
      `[${one}]`,
      one.replace('"kind":1', '"kind":2'),
      one.replace('"status":{"code":1}', '"status":{"code":1},"x":1'),
      one.replace(',"name":"line 0"', ''),
      one.replace('line 0', 'line\n0'.replace('\\n', '\n')),
      one.replace('ab'.repeat(16), 'AB'.repeat(16)),
      one.replace('{"intValue":"0"}', '{"intValue":0}'),
    ])
      assert.ok(!isOtlpSpanList(bad), bad);
  });

  it('matches a large text in one pass, also when it goes wrong only at its end', () => {
    const many = otlpSpansText(Array.from({ length: 20_000 }, () => odd));
    const t = Date.now();
    assert.ok(isOtlpSpanList(many));
    assert.ok(!isOtlpSpanList(`${many},{"traceId":"ab"`));
    assert.ok(!isOtlpSpanList(`${many.slice(0, -2)}`));
    // a sanity bound far above a linear match (milliseconds), far below a backtracking one (minutes)
    assert.ok(Date.now() - t < 10_000, `${Date.now() - t} ms`);
  });
});
