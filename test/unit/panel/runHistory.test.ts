import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readRunHistory, resolveRunFile } from '../../../src/ui/panel/runHistory';

function write(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

describe('panel run history', () => {
  let flow: string;
  let outside: string;
  const runs = () => path.join(flow, '.promptflow', 'runs');

  beforeEach(() => {
    flow = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-panel-hist-')));
    outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-panel-out-')));
    write(path.join(flow, 'flow.dag.yaml'), 'inputs: {}\n');
    write(path.join(outside, 'secret.txt'), 'secret');
  });
  afterEach(() => {
    fs.rmSync(flow, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('is empty for a flow that never ran', async () => {
    assert.deepStrictEqual(await readRunHistory(flow), []);
  });

  it('lists runs newest first with status, time and files', async () => {
    const detail = (status: string, start: string) => JSON.stringify({ flow_runs: [{ status, start_time: start }], node_runs: [] });
    write(path.join(runs(), 'f_run_1', 'flow.detail.json'), detail('Completed', '2025-01-01T10:00:00.000Z'));
    write(path.join(runs(), 'f_run_1', 'flow.output.json'), '{}');
    write(path.join(runs(), 'f_run_1', 'flow.log'), '');
    write(path.join(runs(), 'f_run_2', 'flow.detail.json'), detail('Failed', '2025-01-02T10:00:00.000Z'));
    write(path.join(runs(), 'f_batch_3', 'summary.json'), JSON.stringify({ status: 'Completed' }));
    write(path.join(runs(), 'f_batch_3', 'output.jsonl'), '');
    write(path.join(runs(), 'not a run', 'flow.log'), '');
    fs.symlinkSync(outside, path.join(runs(), 'linked_run'));
    const h = await readRunHistory(flow);
    const batch = h.find((r) => r.runId === 'f_batch_3')!;
    assert.deepStrictEqual(
      h.filter((r) => r.kind === 'run').map((r) => [r.runId, r.status, r.time]),
      [
        ['f_run_2', 'Failed', '2025-01-02T10:00:00.000Z'],
        ['f_run_1', 'Completed', '2025-01-01T10:00:00.000Z'],
      ],
    );
    assert.deepStrictEqual(h.find((r) => r.runId === 'f_run_1')!.files, ['flow.detail.json', 'flow.log', 'flow.output.json']);
    assert.deepStrictEqual([batch.kind, batch.status, batch.files], ['batch', 'Completed', ['output.jsonl', 'summary.json']]);
    assert.strictEqual(h.length, 3, 'the odd folder and the link are not runs');
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
      ['r1', '/etc/passwd'],
      ['r1', '.'],
    ]) {
      assert.strictEqual(await resolveRunFile(flow, runId, file), undefined, `${runId} ${file}`);
    }
  });

  it('refuses a history folder that links out of the flow', async () => {
    write(path.join(outside, 'runs', 'r1', 'flow.log'), 'elsewhere');
    fs.symlinkSync(outside, path.join(flow, '.promptflow'));
    assert.strictEqual(await resolveRunFile(flow, 'r1', 'flow.log'), undefined);
  });
});
