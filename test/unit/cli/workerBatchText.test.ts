import * as assert from 'assert';
import { batchResultText } from '../../../src/cli/flowCommands';
import { workerBatchText } from '../../../src/cli/workerBatchCommand';
import type { WorkerBatchRecord } from '../../../src/core/runs/workers/workerBatch';

const RECORD: WorkerBatchRecord = {
  runId: 'f_batch_1',
  flowDir: '/flows/f',
  outputFile: '/flows/f/.promptflow/runs/f_batch_1/output.jsonl',
  files: [],
  status: 'Completed',
  total: 6,
  completed: 5,
  failed: 1,
  summary: '1 out of 6 runs failed',
  aggregation: null,
  metrics: { accuracy: 0.8 },
  durationMs: 10,
  on: 'swarm',
  replicas: 2,
  workers: [
    { name: 'w.1', lines: 4, failedLines: 1, leases: 2 },
    { name: 'w.2', lines: 2, failedLines: 0, leases: 1, left: 'its connection closed' },
  ],
  requeued: 1,
  refusedConnections: 0,
};

describe('what a batch on workers prints', () => {
  it("prints a local batch's summary, metrics and output, with each worker's share between", () => {
    const local = batchResultText(RECORD).split('\n');
    const text = workerBatchText(RECORD).split('\n');
    assert.deepStrictEqual(text.slice(0, -3), local.slice(0, -1), 'summary and metrics as for a local batch');
    assert.deepStrictEqual(text.slice(-3), ['w.1: 4 lines', 'w.2: 2 lines (left: its connection closed)', `output: ${RECORD.outputFile}`]);
    assert.strictEqual(text[0], '1 out of 6 runs failed');
    assert.ok(text.some((l) => l.includes('accuracy')));
  });

  it('says what ended a failed batch under its summary', () => {
    const text = workerBatchText({
      ...RECORD,
      status: 'Failed',
      metrics: {},
      error: { code: 'Cancelled', message: 'The batch was canceled.' },
    });
    assert.deepStrictEqual(text.split('\n').slice(0, 2), ['1 out of 6 runs failed', 'Cancelled: The batch was canceled.']);
  });

  it('prints why a local batch whose flow did not load ran no line, under its summary', () => {
    const text = batchResultText({
      ...RECORD,
      status: 'Failed',
      total: 0,
      completed: 0,
      failed: 0,
      summary: 'All 0 runs completed',
      metrics: {},
      error: { code: 'PythonLoadError', message: "Failed to load python module from file 'm.py': (ModuleNotFoundError) x" },
    });
    assert.deepStrictEqual(text.split('\n'), [
      'All 0 runs completed',
      "PythonLoadError: Failed to load python module from file 'm.py': (ModuleNotFoundError) x",
      `output: ${RECORD.outputFile}`,
    ]);
  });
});
