import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { LineEndEvent, RunResult } from '../../../../src/core/runtime/protocol';
import {
  BatchOutput,
  batchOutputFile,
  newRunId,
  resolveRunFile,
  runFolder,
  runsFolder,
  writeBatchSummary,
  writeRunResult,
} from '../../../../src/core/runs/runStore';
import { RUN_ID } from '../../../../src/shared/runId';

function write(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

const line = (index: number, status: 'Completed' | 'Failed'): LineEndEvent => ({
  event: 'lineEnd',
  runId: 'r',
  index,
  status,
  durationMs: 1,
  ...(status === 'Completed' ? { output: { y: index * 2 } } : { error: { code: 'UserError', message: 'no' } }),
});

describe('run store', () => {
  let flow: string;
  let outside: string;
  const runs = () => path.join(flow, '.promptflow', 'runs');

  beforeEach(() => {
    flow = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-store-')));
    outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-store-out-')));
    write(path.join(flow, 'flow.dag.yaml'), 'inputs: {}\n');
    write(path.join(outside, 'secret.txt'), 'secret');
  });
  afterEach(() => {
    fs.rmSync(flow, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('keeps a run in <flow>/.promptflow/runs/<runId>', () => {
    assert.strictEqual(runsFolder(flow), runs());
    assert.strictEqual(runFolder(flow, 'f_run_1'), path.join(runs(), 'f_run_1'));
    assert.strictEqual(batchOutputFile(flow, 'f_batch_1'), path.join(runs(), 'f_batch_1', 'output.jsonl'));
  });

  it('makes run ids that name a run folder, whatever the flow folder is called', () => {
    for (const dir of [
      '/w/hello',
      '/w/_private',
      '/w/.hidden',
      '/w/-dash',
      '/w/...',
      '/w/日本語',
      '/',
      '/w/a b.c',
      `/w/${'x'.repeat(80)}`,
    ]) {
      for (const kind of ['run', 'batch'] as const) {
        const id = newRunId(dir, kind);
        assert.match(id, RUN_ID, `${dir} ${kind}: ${id}`);
        assert.ok(!id.includes('..'), id);
        assert.match(id, new RegExp(`_${kind}_\\d{8}_\\d{6}_[0-9a-f]{6}$`), id);
      }
    }
    assert.match(newRunId('/w/hello'), /^hello_run_/);
    assert.match(newRunId('/w/.hidden'), /^hidden_run_/);
    assert.match(newRunId('/'), /^flow_run_/);
    assert.notStrictEqual(newRunId('/w/hello'), newRunId('/w/hello'));
  });

  it('writes a run to the results folder and a copy to its run folder', async () => {
    const result: RunResult = {
      status: 'Completed',
      outputs: { answer: 42 },
      detail: { flow_runs: [], node_runs: [] },
      log: 'done\n',
    };
    const files = await writeRunResult(flow, 'f_run_1', result);
    const latest = path.join(flow, '.promptflow');
    assert.deepStrictEqual(
      files,
      ['flow.output.json', 'flow.detail.json', 'flow.log'].map((f) => path.join(latest, f)),
    );
    for (const f of ['flow.output.json', 'flow.detail.json', 'flow.log']) {
      assert.strictEqual(fs.readFileSync(path.join(runs(), 'f_run_1', f), 'utf8'), fs.readFileSync(path.join(latest, f), 'utf8'));
    }
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(latest, 'flow.output.json'), 'utf8')), { answer: 42 });
    const failed = await writeRunResult(flow, 'f_run_2', { ...result, status: 'Failed', outputs: null });
    assert.deepStrictEqual(
      failed.map((f) => path.basename(f)),
      ['flow.detail.json', 'flow.log'],
      'a failed run has no outputs file',
    );
    assert.deepStrictEqual(fs.readdirSync(path.join(runs(), 'f_run_2')).sort(), ['flow.detail.json', 'flow.log']);
  });

  it('writes a batch output in input order, whole or not at all, and its summary', async () => {
    const output = new BatchOutput(flow, 'f_batch_1');
    output.add(line(1, 'Failed'));
    output.add(line(0, 'Completed'));
    assert.ok(!fs.existsSync(output.file), 'the output appears when the batch finishes');
    await output.finish();
    assert.strictEqual(output.file, batchOutputFile(flow, 'f_batch_1'));
    assert.deepStrictEqual(
      fs
        .readFileSync(output.file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
      [
        { line_number: 0, y: 0 },
        { line_number: 1, error: { code: 'UserError', message: 'no' } },
      ],
    );
    const summary = await writeBatchSummary(flow, 'f_batch_1', { runId: 'f_batch_1', status: 'Completed' });
    assert.strictEqual(summary, path.join(runs(), 'f_batch_1', 'summary.json'));
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(summary, 'utf8')), { runId: 'f_batch_1', status: 'Completed' });
    const aborted = new BatchOutput(flow, 'f_batch_2');
    aborted.add(line(0, 'Completed'));
    await aborted.abort();
    assert.deepStrictEqual(fs.readdirSync(path.join(runs(), 'f_batch_2')), [], 'an aborted batch leaves no file');
  });

  it('resolves only files that exist in a run folder of this flow', async () => {
    write(path.join(runs(), 'r1', 'flow.log'), 'log');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(runs(), 'r1', 'link.txt'));
    fs.symlinkSync(outside, path.join(runs(), 'r2'));
    assert.strictEqual(await resolveRunFile(flow, 'r1', 'flow.log'), path.join(runs(), 'r1', 'flow.log'));
    for (const [runId, file] of [
      ['r1', 'missing.json'],
      ['r1', 'link.txt'],
      ['r2', 'secret.txt'],
      ['r9', 'flow.log'],
      ['..', 'flow.dag.yaml'],
      ['r1', '../../../flow.dag.yaml'],
      ['../..', 'flow.dag.yaml'],
      ['r1/..', 'flow.log'],
      ['r1..', 'flow.log'],
      ['.', 'r1'],
      ['', 'flow.log'],
      ['r1', ''],
      ['r1', '/etc/passwd'],
      ['r1', '.'],
      ['r1', '..'],
      ['/etc', 'passwd'],
      ['r1\0', 'flow.log'],
    ]) {
      assert.strictEqual(await resolveRunFile(flow, runId, file), undefined, `${runId} ${file}`);
    }
  });

  it('refuses a history folder that links out of the flow', async () => {
    write(path.join(outside, 'runs', 'r1', 'flow.log'), 'elsewhere');
    fs.symlinkSync(outside, path.join(flow, '.promptflow'));
    assert.strictEqual(await resolveRunFile(flow, 'r1', 'flow.log'), undefined);
  });

  it('refuses a runs folder that links out of the flow', async () => {
    write(path.join(outside, 'r1', 'flow.log'), 'elsewhere');
    fs.mkdirSync(path.join(flow, '.promptflow'));
    fs.symlinkSync(outside, runs());
    assert.strictEqual(await resolveRunFile(flow, 'r1', 'flow.log'), undefined);
  });
});
