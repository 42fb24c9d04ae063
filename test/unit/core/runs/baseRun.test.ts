import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { baseRunLines, findRunFolder } from '../../../../src/core/runs/baseRun';
import type { LineEndEvent, RunResult } from '../../../../src/core/runtime/protocol';
import {
  BatchOutput,
  latestNodeOutputs,
  readMetrics,
  runFolder,
  writeMetrics,
  writeNodeRunResult,
  writeRunResult,
} from '../../../../src/core/runs/runStore';
import { FlowSessionError } from '../../../../src/core/errors';

const line = (index: number, ok: boolean): LineEndEvent => ({
  event: 'lineEnd',
  runId: 'r',
  index,
  status: ok ? 'Completed' : 'Failed',
  durationMs: 1,
  inputs: { q: `q${index}` },
  ...(ok ? { output: { category: `c${index}` } } : { error: { code: 'UserError', message: 'no' } }),
});

describe('base run of an evaluation batch', () => {
  let root: string;
  let main: string;
  let evalFlow: string;

  beforeEach(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-base-')));
    main = path.join(root, 'main');
    evalFlow = path.join(root, 'eval');
    fs.mkdirSync(main);
    fs.mkdirSync(evalFlow);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  async function batch(runId: string): Promise<string> {
    const output = new BatchOutput(main, runId);
    output.add(line(1, false));
    output.add(line(2, true));
    output.add(line(0, true));
    await output.finish();
    return runFolder(main, runId);
  }

  it('joins the outputs of the lines that completed and the inputs of every line, by line number', async () => {
    const dir = await batch('main_batch_1');
    const rows = (await baseRunLines(dir))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line_number: number });
    rows.sort((a, b) => a.line_number - b.line_number);
    assert.deepStrictEqual(rows, [
      { line_number: 0, outputs: { category: 'c0' }, inputs: { q: 'q0' } },
      { line_number: 1, inputs: { q: 'q1' } },
      { line_number: 2, outputs: { category: 'c2' }, inputs: { q: 'q2' } },
    ]);
  });

  it("gives an evaluation the base run's images as images again", async () => {
    const png = Buffer.from('PNG bytes').toString('base64');
    const output = new BatchOutput(main, 'main_batch_img');
    output.add({ ...line(0, true), inputs: { pic: { 'data:image/png;base64': png } }, output: { seen: { 'data:image/png;base64': png } } });
    await output.finish();
    const dir = runFolder(main, 'main_batch_img');
    assert.match(fs.readFileSync(path.join(dir, 'output.jsonl'), 'utf8'), /"data:image\/png;path":"images\/[0-9a-f]{32}\.png"/);
    const [row] = (await baseRunLines(dir))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    assert.deepStrictEqual(row, {
      line_number: 0,
      outputs: { seen: { 'data:image/png;base64': png } },
      inputs: { pic: { 'data:image/png;base64': png } },
    });
  });

  it('finds a run by its folder, or by its id next to the flow or in the current folder', async () => {
    const dir = await batch('main_batch_2');
    assert.strictEqual(findRunFolder(dir), dir);
    assert.strictEqual(findRunFolder('main_batch_2', { flowDir: evalFlow, cwd: os.tmpdir() }), dir);
    assert.strictEqual(findRunFolder('main_batch_2', { cwd: root }), dir);
    assert.strictEqual(findRunFolder(path.relative(root, dir), { cwd: root }), dir);
    assert.throws(
      () => findRunFolder('main_batch_9', { flowDir: evalFlow, cwd: root }),
      (e: unknown) => e instanceof FlowSessionError && /Run not found: main_batch_9/.test(e.message) && !!e.remedy,
    );
  });

  it('refuses a run that is not a finished batch', async () => {
    fs.mkdirSync(runFolder(main, 'main_run_1'), { recursive: true });
    await assert.rejects(baseRunLines(runFolder(main, 'main_run_1')), /not a finished batch run/);
  });

  it('keeps metrics in metrics.json of the run folder; none is {}', async () => {
    const file = await writeMetrics(main, 'main_batch_3', { accuracy: 0.5, 'count.variant_1': 3 });
    assert.strictEqual(file, path.join(runFolder(main, 'main_batch_3'), 'metrics.json'));
    assert.deepStrictEqual(await readMetrics(runFolder(main, 'main_batch_3')), { accuracy: 0.5, 'count.variant_1': 3 });
    assert.deepStrictEqual(await readMetrics(runFolder(main, 'main_batch_4')), {});
  });
});

describe('single node runs in the run store', () => {
  let flow: string;
  beforeEach(() => (flow = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-node-')))));
  afterEach(() => fs.rmSync(flow, { recursive: true, force: true }));

  const result = (nodeRuns: object[]): RunResult => ({
    status: 'Completed',
    outputs: { x: 1 },
    detail: { flow_runs: [], node_runs: nodeRuns as RunResult['detail']['node_runs'] },
    log: 'log\n',
  });

  it("reads the completed nodes' outputs of the latest run, and keeps them when a node runs alone", async () => {
    assert.deepStrictEqual(await latestNodeOutputs(flow), {});
    await writeRunResult(
      flow,
      'f_run_1',
      result([
        { node: 'fetch', status: 'Completed', output: { text: 't' } },
        { node: 'b', status: 'Failed' },
      ]),
    );
    const files = await writeNodeRunResult(flow, 'f_run_2', 'summarize', result([{ node: 'summarize', status: 'Completed', output: 's' }]));
    assert.deepStrictEqual(
      files.map((f) => path.basename(f)),
      ['summarize.node.detail.json', 'summarize.node.log'],
    );
    assert.ok(fs.existsSync(path.join(runFolder(flow, 'f_run_2'), 'summarize.node.detail.json')));
    assert.deepStrictEqual(await latestNodeOutputs(flow), { fetch: { text: 't' } });
  });
});
