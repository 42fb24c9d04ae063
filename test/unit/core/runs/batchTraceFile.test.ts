import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fromOtlp, otlpDocumentText, toOtlp } from '../../../../src/core/runs/otlp';
import { BatchTraceFile, MAX_BATCH_SPANS } from '../../../../src/core/runs/batchTraceFile';
import type { LineEndEvent, LineTraceExtra, LineTraceRecord, RecordedStep, TraceStepsEvent } from '../../../../src/core/runtime/protocol';
import type { TraceSpan } from '../../../../src/shared/trace';

const TRACE = 'ab'.repeat(16);
const BATCH_SPAN = '01'.repeat(8);
const STEPS: TraceStepsEvent = {
  event: 'traceSteps',
  runId: 'r',
  traceId: TRACE,
  parentSpanId: BATCH_SPAN,
  steps: [
    { name: 'shout', attributes: { 'flowsession.node.name': 'shout', span_type: 'Function', 'flowsession.node.type': 'python' } },
    {
      name: 'ask',
      attributes: { 'flowsession.node.name': 'ask', span_type: 'LLM', 'flowsession.node.type': 'llm', 'flowsession.node.variant': 'v1' },
    },
  ],
};
const ROOT: TraceSpan = {
  traceId: TRACE,
  spanId: BATCH_SPAN,
  name: 'batch',
  kind: 'flow',
  start: '1700000000000000000',
  end: '1700000009000000000',
  status: 'Ok',
  attributes: { span_type: 'Flow' },
};
const id = (n: number) => n.toString(16).padStart(16, '0');
const resource = { flow: 'f', runId: 'r' };

/** a line's record by the names of its fields */
interface RecordFields extends LineTraceExtra {
  start: string;
  end: number;
  ids: string;
  ok: boolean;
  steps: RecordedStep[];
}

/** a line as the runtime sends it: its result and its record (start just before a second ends: times carry over) */
function line(index: number, fields: Partial<RecordFields> = {}, result: Partial<LineEndEvent> = {}): LineEndEvent {
  const { start, end, ids, ok, steps, ...extra }: RecordFields = {
    start: '1700000000999999000',
    end: 5000,
    ids: id(3 * index + 1) + id(3 * index + 2) + id(3 * index + 3),
    ok: true,
    steps: [
      [0, 100, 900, { text: `question ${index}` }, `QUESTION ${index}`],
      [1, 1000, 4000, '{"question":"QUESTION"}', 'answer "é" \n'],
    ],
    ...fields,
  };
  const record: LineTraceRecord = [start, end, ids, ok, steps];
  if (Object.keys(extra).length) record.push(extra);
  return {
    event: 'lineEnd',
    runId: 'r',
    index,
    status: 'Completed',
    durationMs: 1,
    inputs: { q: `question ${index}` },
    output: { a: 1.5 },
    traceRecord: record,
    ...result,
  };
}

/** the spans of line(index) as the runtime once sent them whole */
function lineSpans(index: number): TraceSpan[] {
  const base = { traceId: TRACE, kind: 'node' as const, status: 'Ok' as const };
  const [root, shout, ask] = [1, 2, 3].map((k) => id(3 * index + k));
  return [
    {
      ...base,
      spanId: shout,
      parentSpanId: root,
      name: 'shout',
      start: '1700000000999999100',
      end: '1700000000999999900',
      attributes: {
        'flowsession.node.name': 'shout',
        span_type: 'Function',
        'flowsession.node.type': 'python',
        'flowsession.status': 'Completed',
        'flowsession.inputs': `{"text":"question ${index}"}`,
        'flowsession.output': `QUESTION ${index}`,
      },
    },
    {
      ...base,
      spanId: ask,
      parentSpanId: root,
      name: 'ask',
      start: '1700000001000000000',
      end: '1700000001000003000',
      attributes: {
        'flowsession.node.name': 'ask',
        span_type: 'LLM',
        'flowsession.node.type': 'llm',
        'flowsession.node.variant': 'v1',
        'flowsession.status': 'Completed',
        'flowsession.inputs': '{"question":"QUESTION"}',
        'flowsession.output': 'answer "é" \n',
      },
    },
    {
      ...base,
      kind: 'flow',
      spanId: root,
      parentSpanId: BATCH_SPAN,
      name: `line ${index}`,
      start: '1700000000999999000',
      end: '1700000001000004000',
      attributes: {
        span_type: 'Flow',
        'flowsession.run_id': `r_${index}`,
        'flowsession.line_number': index,
        'flowsession.inputs': `{"q":"question ${index}"}`,
        'flowsession.output': '{"a":1.5}',
      },
    },
  ];
}

const LLM_CALL: TraceSpan = {
  traceId: TRACE,
  spanId: 'ff'.repeat(8),
  parentSpanId: id(3),
  name: 'chat gpt-4o',
  kind: 'llm',
  start: '1700000001000001000',
  end: '1700000001000002000',
  status: 'Ok',
  attributes: { 'gen_ai.system': 'openai', 'gen_ai.usage.input_tokens': 7, 'gen_ai.usage.output_tokens': 3 },
};

describe('a batch trace file', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-trace-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const traceFile = (secrets: string[] = []) => {
    const trace = new BatchTraceFile(path.join(dir, 'trace.json'), secrets, resource);
    trace.steps(STEPS);
    return trace;
  };
  const read = (file: string | undefined) => fromOtlp(JSON.parse(fs.readFileSync(file!, 'utf8')));

  it("is toOtlp of the spans the lines' records stand for, byte for byte, then the batch's own", async () => {
    const trace = traceFile();
    trace.addLine(line(0));
    trace.addLine(line(1, { spans: [LLM_CALL] }));
    const file = await trace.finish([ROOT]);
    assert.strictEqual(
      fs.readFileSync(file!, 'utf8'),
      `${JSON.stringify(toOtlp([...lineSpans(0), ...lineSpans(1), LLM_CALL, ROOT], resource))}\n`,
    );
    assert.deepStrictEqual(trace.tokens, { input: 7, output: 3, total: 10 }, 'the tokens of the calls inside the steps');
    assert.deepStrictEqual(fs.readdirSync(dir), ['trace.json'], 'no temporary file is left');
    const { head, tail } = otlpDocumentText(resource);
    assert.strictEqual(head + tail, JSON.stringify(toOtlp([], resource)));
  });

  it('writes a failed step and line with their errors, a bypassed step without output, and values given as text', async () => {
    const trace = traceFile();
    trace.addLine(
      line(
        0,
        {
          ok: false,
          message: 'shout failed',
          inputs: '{"q":"redacted ***"}',
          steps: [
            [0, 100, 900, { text: 'x' }, null, 'Failed', 'ToolExecutionError', 'it broke'],
            [1, 900, 900, null, null, 'Bypassed'],
          ],
        },
        { status: 'Failed', output: undefined },
      ),
    );
    const spans = read(await trace.finish([]));
    const [shout, ask, root] = spans;
    assert.strictEqual(shout.status, 'Error');
    assert.strictEqual(shout.statusMessage, 'it broke');
    assert.strictEqual(shout.attributes['error.type'], 'ToolExecutionError');
    assert.strictEqual(shout.attributes['flowsession.output'], undefined);
    assert.deepStrictEqual(
      [ask.status, ask.attributes['flowsession.status'], ask.attributes['flowsession.inputs']],
      ['Ok', 'Bypassed', undefined],
    );
    assert.deepStrictEqual([root.status, root.statusMessage], ['Error', 'shout failed']);
    assert.strictEqual(root.attributes['flowsession.inputs'], '{"q":"redacted ***"}', "the record's own text, not the line's");
    assert.strictEqual(root.attributes['flowsession.output'], undefined);
  });

  it('cuts a value the record gives as it is where the runtime cuts its text', async () => {
    const trace = traceFile();
    const long = { text: 'x'.repeat(2000) };
    trace.addLine(line(0, { steps: [[0, 1, 2, long, 7]] }));
    const [shout] = read(await trace.finish([]));
    assert.strictEqual(shout.attributes['flowsession.inputs'], `${JSON.stringify(long).slice(0, 1024)}[truncated]`);
    assert.strictEqual(shout.attributes['flowsession.output'], '7');
  });

  it("writes each time exactly: the line's start and its offsets in nanoseconds, across seconds", async () => {
    const trace = traceFile();
    trace.addLine(
      line(0, {
        start: '1700000002000000050',
        end: 2_500_000_000,
        steps: [
          [0, 0, 7, null, 1],
          [1, 99_999_950, 1_999_999_950, null, 2],
        ],
      }),
    );
    const times = read(await trace.finish([])).map((s) => [s.start, s.end]);
    assert.deepStrictEqual(times, [
      ['1700000002000000050', '1700000002000000057'],
      ['1700000002100000000', '1700000004000000000'],
      ['1700000002000000050', '1700000004500000050'],
    ]);
  });

  it('masks secrets in every span, also in text that is not ASCII', async () => {
    const trace = traceFile(['sk-secret-9', 'clé-secrète-ü']);
    trace.addLine(line(0, { steps: [[0, 1, 2, { key: 'sk-secret-9' }, 'dit "clé-secrète-ü" — 雪']] }));
    const file = await trace.finish([ROOT]);
    const text = fs.readFileSync(file!, 'utf8');
    assert.ok(!text.includes('sk-secret-9') && !text.includes('clé-secrète'), text);
    assert.strictEqual(read(file)[0].attributes['flowsession.output'], 'dit "***" — 雪');
  });

  it('writes the inputs a record names from where the table says they come: flow inputs, earlier outputs, literals', async () => {
    const trace = new BatchTraceFile(path.join(dir, 'trace.json'), [], resource);
    trace.steps({
      ...STEPS,
      steps: [
        { ...STEPS.steps[0], inputs: [['text', 'input', 'q']] },
        {
          ...STEPS.steps[1],
          inputs: [
            ['question', 'step', 0],
            ['temperature', 'value', '1.5'],
            ['stop', 'value', '["\\n"]'],
            ['missing', 'input', 'nope'],
            ['inherited', 'input', 'constructor'],
          ],
        },
      ],
    });
    trace.addLine(
      line(0, {
        steps: [
          [0, 100, 900, true, 'QUESTION 0'],
          [1, 1000, 4000, true, 'answer'],
        ],
      }),
    );
    const long = 'y'.repeat(1100);
    trace.addLine(line(1, { steps: [[0, 100, 900, true, 7]] }, { inputs: { q: long } }));
    trace.addLine(
      line(
        2,
        {
          steps: [
            [0, 100, 900, true, 1],
            [1, 1000, 4000, true, 'answer'],
          ],
        },
        { inputs: { q: 'a "quoted" \n text' } },
      ),
    );
    const spans = read(await trace.finish([]));
    const inputsOf = (name: string, line: number) => spans.filter((s) => s.name === name)[line]?.attributes['flowsession.inputs'];
    assert.strictEqual(inputsOf('shout', 0), '{"text":"question 0"}');
    assert.strictEqual(inputsOf('ask', 0), '{"question":"QUESTION 0","temperature":1.5,"stop":["\\n"],"missing":null,"inherited":null}');
    assert.strictEqual(inputsOf('shout', 1), `{"text":"${'y'.repeat(1024 - 9)}[truncated]`, 'cut where the runtime cuts its text');
    assert.strictEqual(inputsOf('shout', 2), '{"text":"a \\"quoted\\" \\n text"}');
    assert.strictEqual(inputsOf('ask', 1), '{"question":1,"temperature":1.5,"stop":["\\n"],"missing":null,"inherited":null}');
    // a step the table names no inputs of cannot say its inputs are named
    const plain = traceFile();
    plain.addLine(line(0, { steps: [[0, 100, 900, true, 'QUESTION 0']] }));
    assert.strictEqual(plain.unreadable, 1);
    await plain.abort();
  });

  it('draws the span ids of a line whose record came without them: each its own, steps under their root', async () => {
    const trace = traceFile();
    trace.addLine(line(0, { ids: '' }));
    trace.addLine(line(1, { ids: '' }));
    const spans = read(await trace.finish([]));
    assert.deepStrictEqual(
      spans.map((s) => s.name),
      ['shout', 'ask', 'line 0', 'shout', 'ask', 'line 1'],
    );
    for (const s of spans) assert.match(s.spanId, /^[0-9a-f]{16}$/);
    assert.strictEqual(new Set(spans.map((s) => s.spanId)).size, spans.length, 'no two spans share an id');
    for (const at of [0, 3]) {
      const [shout, ask, root] = spans.slice(at, at + 3);
      assert.deepStrictEqual([shout.parentSpanId, ask.parentSpanId, root.parentSpanId], [root.spanId, root.spanId, BATCH_SPAN]);
    }
  });

  it('leaves out a record that is not one, whole, and counts it; the document stays one readers read', async () => {
    const trace = traceFile();
    const bad: Array<Partial<RecordFields>> = [
      { ids: 'not hex at all, but "quotes" ],' },
      { ids: 'ab' },
      { start: '17e9' },
      { end: -1 },
      { end: 2 ** 60 },
      { steps: [[7, 1, 2, null, null]] },
      { steps: [[0, 1, 2, null, null, 42]] as unknown as RecordedStep[] },
      { steps: [['0', 1, 2, null, null]] as unknown as RecordedStep[] },
      { steps: 'no' as unknown as RecordedStep[] },
      { ok: 'yes' as unknown as boolean },
      { spans: [{ ...LLM_CALL, spanId: '"}]},{' }] },
      { spans: [{ ...LLM_CALL, attributes: { x: { nested: true } } }] as unknown as TraceSpan[] },
    ];
    bad.forEach((fields, i) => trace.addLine(line(i, fields)));
    trace.addLine({ ...line(20), traceRecord: 'text' as unknown as LineTraceRecord });
    trace.addLine(line(21, { steps: [[0, 1, 2, null, null, 'a "quoted" ], status']] }));
    const spans = read(await trace.finish([ROOT]));
    assert.strictEqual(trace.unreadable, bad.length + 1);
    assert.deepStrictEqual(
      spans.map((s) => s.name),
      ['shout', 'line 21', 'batch'],
    );
    assert.strictEqual(spans[0].attributes['flowsession.status'], 'a "quoted" ], status');
  });

  it('takes no record before the traceSteps event, nor after one that is not a table', async () => {
    const none = new BatchTraceFile(path.join(dir, 'trace.json'), [], resource);
    none.addLine(line(0));
    none.steps({ ...STEPS, traceId: 'not hex' });
    none.addLine(line(1));
    assert.strictEqual(none.unreadable, 2);
    assert.strictEqual(await none.finish([]), undefined, 'no spans, no file');
  });

  it('writes nothing after an abort', async () => {
    const trace = traceFile();
    trace.addLine(line(0));
    await trace.abort();
    assert.deepStrictEqual(fs.readdirSync(dir), []);
  });

  it('writes a large trace into a file as it comes, which becomes trace.json, and keeps the first spans only', async () => {
    const trace = traceFile(['sk-secret-9']);
    const value = `sk-secret-9 ${'x'.repeat(200)}`;
    // two spans a line (the root, one step): the last ten lines are past the limit
    const lines = MAX_BATCH_SPANS / 2 + 10;
    let sawPartial = false;
    for (let i = 0; i < lines; i++) {
      trace.addLine(line(i, { steps: [[0, 1, 2, value, value]] }));
      // about 3 MB of text so far
      if (i === 2_000) sawPartial = fs.readdirSync(dir).some((f) => f.endsWith('.partial'));
    }
    assert.ok(sawPartial, 'past 1 MB the document is written as the lines come');
    const spans = read(await trace.finish([ROOT]));
    const kept = Math.floor(MAX_BATCH_SPANS / 2);
    assert.strictEqual(spans.length, 2 * kept + 1);
    assert.strictEqual(trace.leftOut, 2 * (lines - kept));
    assert.strictEqual(spans[spans.length - 1].name, 'batch');
    assert.ok(spans.every((s) => !String(s.attributes['flowsession.output'] ?? '').includes('sk-secret-9')));
    assert.deepStrictEqual(fs.readdirSync(dir), ['trace.json'], 'no temporary file is left');
  });
});
