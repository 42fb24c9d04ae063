import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compareRuns, cutValue, runValue } from '../../../../src/core/runs/runComparison';
import { writeTrace } from '../../../../src/core/runs/runStore';

describe('runs side by side (from the run folders)', () => {
  let flowDir: string;
  const runDir = (id: string) => path.join(flowDir, '.promptflow', 'runs', id);
  const write = (id: string, file: string, content: string) => {
    fs.mkdirSync(runDir(id), { recursive: true });
    fs.writeFileSync(path.join(runDir(id), file), content);
  };
  beforeEach(() => (flowDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-compare-'))));
  afterEach(() => fs.rmSync(flowDir, { recursive: true, force: true }));

  it('reads a batch line by line with its summary, metrics and trace tokens, next to a single run', async () => {
    const lines = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    write(
      'b1',
      'output.jsonl',
      lines([
        { line_number: 0, answer: 'a0' },
        { line_number: 1, error: { message: 'boom' } },
      ]),
    );
    write(
      'b1',
      'inputs.jsonl',
      lines([
        { line_number: 0, q: 'x' },
        { line_number: 1, q: 'y' },
      ]),
    );
    write('b1', 'summary.json', JSON.stringify({ status: 'Completed', durationMs: 2500, variants: { s: 'variant_1' } }));
    write('b1', 'metrics.json', JSON.stringify({ accuracy: 0.5 }));
    await writeTrace(
      flowDir,
      'b1',
      [
        {
          traceId: 'a'.repeat(32),
          spanId: '1'.repeat(16),
          name: 'chat',
          kind: 'llm',
          start: '1',
          end: '2',
          status: 'Ok',
          attributes: { 'gen_ai.usage.input_tokens': 8, 'gen_ai.usage.output_tokens': 2 },
        },
      ],
      { flow: 'f', runId: 'b1' },
    );
    write(
      'r1',
      'flow.detail.json',
      JSON.stringify({
        flow_runs: [
          {
            status: 'Failed',
            inputs: { q: 'x' },
            output: null,
            error: { message: 'bad input' },
            start_time: '2026-01-01T00:00:00Z',
            system_metrics: { duration: 0.25 },
          },
        ],
        node_runs: [],
      }),
    );
    await writeTrace(
      flowDir,
      'r1',
      [
        {
          traceId: 'b'.repeat(32),
          spanId: '2'.repeat(16),
          name: 'summarize',
          kind: 'node',
          start: '1',
          end: '2',
          status: 'Ok',
          attributes: { 'flowsession.node.name': 'summarize', 'flowsession.node.variant': 'variant_1' },
        },
      ],
      { flow: 'f', runId: 'r1' },
    );
    const view = await compareRuns(flowDir, ['b1', 'r1', 'gone']);
    const [b, r, gone] = view.runs;
    assert.deepStrictEqual(
      [b.kind, b.status, b.durationMs, b.tokens, b.metrics, b.variants],
      ['batch', 'Completed', 2500, { input: 8, output: 2, total: 10 }, { accuracy: 0.5 }, { s: 'variant_1' }],
    );
    assert.deepStrictEqual(b.lines, [
      { index: 0, status: 'Completed', inputs: { q: 'x' }, outputs: { answer: 'a0' } },
      { index: 1, status: 'Failed', inputs: { q: 'y' }, error: 'boom' },
    ]);
    assert.deepStrictEqual(
      [r.kind, r.status, r.durationMs, r.tokens, r.lines[0].error, r.variants],
      ['run', 'Failed', 250, { input: 0, output: 0, total: 0 }, 'bad input', { summarize: 'variant_1' }],
    );
    assert.match(gone.problem ?? '', /no such run/);
  });

  it('cuts long values, and gives one value whole for an editor', async () => {
    assert.strictEqual(cutValue('short'), 'short');
    assert.match(String(cutValue('y'.repeat(10_000))), /^y{4000}… \[cut\]$/);
    assert.match(String(cutValue({ big: 'z'.repeat(10_000) })), /^\{"big":"z+… \[cut\]$/);
    write('r2', 'flow.output.json', JSON.stringify({ answer: 'line 1\nline 2' }));
    write(
      'r2',
      'flow.detail.json',
      JSON.stringify({ flow_runs: [{ output: { answer: 'x' } }], node_runs: [{ node: 'n', output: { k: [1, 2] } }] }),
    );
    assert.deepStrictEqual(await runValue(flowDir, 'r2', 'output', 'answer'), { text: 'line 1\nline 2', json: false });
    assert.deepStrictEqual(await runValue(flowDir, 'r2', 'node', 'n'), { text: '{\n  "k": [\n    1,\n    2\n  ]\n}', json: true });
    assert.strictEqual(await runValue(flowDir, 'r2', 'node', 'constructor'), undefined);
    assert.strictEqual(await runValue(flowDir, 'r2', 'output', '__proto__'), undefined);
    assert.strictEqual(await runValue(flowDir, '../r2', 'output', 'answer'), undefined);
  });
});
