import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EngineBatchScheduler, type BatchEngine, type EngineBatchEvent } from '../../../../src/core/runs/engineBatchScheduler';
import { BatchOutput } from '../../../../src/core/runs/runStore';
import type { BatchParams, LineEndEvent } from '../../../../src/core/runtime/protocol';

type Listener = (e: Record<string, unknown>) => void;

/**
 * A session runtime without a container: a batch request runs its lines (y = 2x) as events, in a
 * scrambled order, and `failAfter` lines makes the engine die in the middle of a share.
 */
class FakeRuntime {
  readonly files = new Map<string, string>();
  readonly batches: BatchParams[] = [];
  private readonly listeners = new Set<Listener>();
  private linesRun = 0;

  constructor(private readonly failAfter = Infinity) {}

  onEvent(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async request(method: { method: string }, params: Record<string, unknown>): Promise<unknown> {
    await new Promise((r) => setImmediate(r));
    if (method.method === 'writeFiles') {
      for (const f of params.files as { path: string; content: string }[])
        this.files.set(f.path, Buffer.from(f.content, 'base64').toString());
      return { written: [] };
    }
    if (method.method === 'cancel') return { cancelled: true };
    const p = params as unknown as BatchParams;
    this.batches.push(p);
    if (p.aggregationLists) {
      const xs = p.aggregationLists.total.x as number[];
      return { status: 'Completed', aggregation: { status: 'Completed', outputs: { sum: xs.reduce((a, b) => a + b, 0) }, nodeRuns: [] } };
    }
    const lines = this.files.get(p.dataPath)!.trim().split('\n');
    const order = lines.map((_l, i) => i).sort((a, b) => (a % 3) - (b % 3) || a - b);
    for (const index of order) {
      if (this.linesRun++ >= this.failAfter) throw new Error('the engine is gone');
      const x = (JSON.parse(lines[index]) as { x: number }).x;
      const line = { event: 'lineEnd', runId: p.runId, index, status: 'Completed', durationMs: 1, output: { y: 2 * x } };
      for (const l of this.listeners) l(p.aggValues ? { ...line, agg: { total: { x } } } : line);
    }
    return { status: 'Completed', total: lines.length, completed: lines.length, failed: 0, aggregation: null };
  }
}

function engine(name: string, runtime: FakeRuntime, startError?: Error): BatchEngine {
  const manager = {
    engine: { ping: async () => undefined, putArchive: async () => undefined },
    liveRuntime: () => (startError ? undefined : runtime),
    up: async () => {
      if (startError) throw startError;
    },
    syncFlow: async () => undefined,
    runtime: async () => runtime,
    status: async () => ({ container: `${name}-container` }),
  };
  return { name, manager: manager as unknown as BatchEngine['manager'] };
}

describe('multi-engine batch scheduler', () => {
  let dir: string;
  const flow = { nodes: [{ name: 'total', aggregation: true }] };
  const lines = (n: number) => Array.from({ length: n }, (_v, x) => JSON.stringify({ x }));

  beforeEach(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-sched-')));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function runBatch(engines: BatchEngine[], n: number) {
    const output = new BatchOutput(dir, 'f_batch_1');
    const seen: [number, string][] = [];
    const events: EngineBatchEvent[] = [];
    const scheduler = new EngineBatchScheduler(
      { runId: 'f_batch_1', flowDir: dir, flow, lines: lines(n), engines, output },
      { workers: 2, minChunkLines: 3, onLine: (e: LineEndEvent, name) => seen.push([e.index, name]), onEngine: (e) => events.push(e) },
    );
    const outcome = await scheduler.run();
    await output.finish();
    const written = fs
      .readFileSync(output.file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line_number: number; y: number });
    return { scheduler, outcome, seen, events, written };
  }

  it('splits the lines over the engines, each line once, the output in input order, aggregation once', async () => {
    const a = new FakeRuntime();
    const b = new FakeRuntime();
    const { scheduler, outcome, seen, written } = await runBatch([engine('a', a), engine('b', b)], 40);
    assert.deepStrictEqual(outcome, { total: 40, failed: 0, aggregation: outcome.aggregation, aggregationEngine: 'a' });
    assert.deepStrictEqual(outcome.aggregation?.outputs, { sum: (39 * 40) / 2 });
    assert.deepStrictEqual(
      seen.map(([i]) => i).sort((x, y) => x - y),
      [...Array(40).keys()],
      'each line reported once',
    );
    assert.deepStrictEqual(
      written.map((l) => [l.line_number, l.y]),
      [...Array(40).keys()].map((i) => [i, 2 * i]),
    );
    assert.deepStrictEqual(
      scheduler.shares.map((s) => s.lines),
      [20, 20],
      'an even first share per engine',
    );
    assert.strictEqual([...a.batches, ...b.batches].filter((p) => p.aggregationLists).length, 1);
    assert.ok(a.batches.every((p) => p.aggregationLists || (p.aggValues && p.removeData && p.workers === 2)));
  });

  it('hands the lines of an engine that fails mid-share to the others, still each line once', async () => {
    const { scheduler, outcome, seen, events, written } = await runBatch(
      [engine('a', new FakeRuntime()), engine('b', new FakeRuntime(5))],
      30,
    );
    assert.strictEqual(outcome.error, undefined);
    assert.strictEqual(outcome.total, 30);
    assert.strictEqual(seen.length, 30);
    const [a, b] = scheduler.shares;
    assert.deepStrictEqual([a.lines, b.lines], [25, 5]);
    assert.strictEqual(b.error, 'the engine is gone');
    assert.strictEqual(b.requeued, 10);
    assert.strictEqual(scheduler.requeued, 10);
    assert.deepStrictEqual(
      events.filter((e) => e.engine === 'b').map((e) => e.kind),
      ['ready', 'chunk', 'failed', 'requeued'],
    );
    assert.deepStrictEqual(
      written.map((l) => l.line_number),
      [...Array(30).keys()],
    );
  });

  it('goes on without an engine that cannot start, and fails when no engine is left', async () => {
    const down = new Error('engine not reachable');
    const one = await runBatch([engine('a', new FakeRuntime(), down), engine('b', new FakeRuntime())], 12);
    assert.strictEqual(one.outcome.error, undefined);
    assert.deepStrictEqual(
      one.scheduler.shares.map((s) => [s.lines, s.error]),
      [
        [0, 'engine not reachable'],
        [12, undefined],
      ],
    );
    assert.strictEqual(one.outcome.aggregationEngine, 'b');
    fs.rmSync(dir, { recursive: true, force: true });
    const none = await runBatch([engine('a', new FakeRuntime(), down), engine('b', new FakeRuntime(4))], 12);
    assert.deepStrictEqual(none.outcome.error, {
      code: 'EnginesFailed',
      message: '8 of 12 lines could not run: every engine failed (a: engine not reachable; b: the engine is gone).',
    });
    assert.strictEqual(none.outcome.total, 4);
    assert.strictEqual(none.outcome.aggregation, null);
  });
});
