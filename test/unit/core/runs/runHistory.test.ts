import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mainFileOf, readRunHistory } from '../../../../src/core/runs/runHistory';
import { recentRuns } from '../../../../src/ui/runHistory';

function write(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

function setMtime(dir: string, iso: string): void {
  const t = new Date(iso);
  fs.utimesSync(dir, t, t);
}

describe('run history', () => {
  let flow: string;
  let outside: string;
  const runs = () => path.join(flow, '.promptflow', 'runs');
  const detail = (status: string, start: string) => JSON.stringify({ flow_runs: [{ status, start_time: start }], node_runs: [] });

  beforeEach(() => {
    flow = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-hist-')));
    outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-hist-out-')));
    write(path.join(flow, 'flow.dag.yaml'), 'inputs: {}\n');
    write(path.join(outside, 'secret.txt'), 'secret');
  });
  afterEach(() => {
    fs.rmSync(flow, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('is empty for a flow that never ran', async () => {
    assert.deepStrictEqual(await readRunHistory(flow), []);
    assert.deepStrictEqual(await recentRuns(flow), []);
  });

  it('lists runs newest first with status, time and files', async () => {
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
    assert.strictEqual(batch.dir, path.join(runs(), 'f_batch_3'));
    assert.strictEqual(h.length, 3, 'the odd folder and the link are not runs');
  });

  it('orders by start time, else by folder time, and tells a batch by its files', async () => {
    // the folder of the older run was touched last: its start time still places it
    write(path.join(runs(), 'f_run_old', 'flow.detail.json'), detail('Completed', '2025-03-01T10:00:00.000Z'));
    write(path.join(runs(), 'f_run_new', 'flow.detail.json'), detail('Completed', '2025-03-02T10:00:00.000Z'));
    write(path.join(runs(), 'f_run_nodetail', 'flow.output.json'), '{}');
    write(path.join(runs(), 'f_batch_unfinished', 'output.jsonl'), '');
    setMtime(path.join(runs(), 'f_run_new'), '2025-03-02T11:00:00.000Z');
    setMtime(path.join(runs(), 'f_run_old'), '2025-03-03T11:00:00.000Z');
    setMtime(path.join(runs(), 'f_run_nodetail'), '2025-03-01T12:00:00.000Z');
    setMtime(path.join(runs(), 'f_batch_unfinished'), '2025-02-01T00:00:00.000Z');
    const h = await readRunHistory(flow);
    assert.deepStrictEqual(
      h.map((r) => [r.runId, r.kind, r.status, r.time]),
      [
        ['f_run_new', 'run', 'Completed', '2025-03-02T10:00:00.000Z'],
        ['f_run_nodetail', 'run', 'Completed', '2025-03-01T12:00:00.000Z'],
        ['f_run_old', 'run', 'Completed', '2025-03-01T10:00:00.000Z'],
        ['f_batch_unfinished', 'batch', 'Unknown', '2025-02-01T00:00:00.000Z'],
      ],
    );
    assert.deepStrictEqual(
      (await readRunHistory(flow, 1)).map((r) => r.runId),
      ['f_run_old'],
      'the limit keeps the most recently changed folders',
    );
  });

  it('names the file to open for a run, and the sessions tree sees the same history', async () => {
    write(path.join(runs(), 'f_run_1', 'flow.detail.json'), detail('Failed', '2025-01-01T10:00:00.000Z'));
    write(path.join(runs(), 'f_run_1', 'flow.log'), '');
    write(path.join(runs(), 'f_batch_2', 'summary.json'), JSON.stringify({ status: 'Failed' }));
    write(path.join(runs(), 'f_batch_2', 'output.jsonl'), '');
    write(path.join(runs(), 'f_run_3', 'notes.txt'), '');
    setMtime(path.join(runs(), 'f_run_1'), '2025-01-01T10:00:05.000Z');
    setMtime(path.join(runs(), 'f_batch_2'), '2025-01-02T10:00:00.000Z');
    setMtime(path.join(runs(), 'f_run_3'), '2024-12-01T10:00:00.000Z');
    const h = await readRunHistory(flow);
    assert.deepStrictEqual(
      h.map((r) => mainFileOf(r)),
      [path.join(runs(), 'f_batch_2', 'output.jsonl'), path.join(runs(), 'f_run_1', 'flow.detail.json'), undefined],
    );
    const [last] = await recentRuns(flow, 1);
    assert.deepStrictEqual(last, {
      runId: 'f_batch_2',
      dir: path.join(runs(), 'f_batch_2'),
      kind: 'batch',
      status: 'Failed',
      time: Date.parse('2025-01-02T10:00:00.000Z'),
      mainFile: path.join(runs(), 'f_batch_2', 'output.jsonl'),
    });
  });
});
