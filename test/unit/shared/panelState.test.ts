import * as assert from 'assert';
import { applyHostMessage, emptyState, isRunActive, STATE_LIMITS } from '../../../src/shared/panelState';
import type { HostMessage, PanelState } from '../../../src/shared/protocol';

function apply(state: PanelState, ...msgs: HostMessage[]): PanelState {
  return msgs.reduce(applyHostMessage, state);
}

describe('panel state', () => {
  const start = emptyState('/flows/hello', 'hello');

  it('builds the run node by node from run events', () => {
    const s = apply(
      start,
      { type: 'runStarted', runId: 'r1', startedAt: '2025-01-01T00:00:00Z' },
      { type: 'runEvent', runId: 'r1', event: { event: 'nodeStart', node: 'greet' } },
      { type: 'runEvent', runId: 'r1', event: { event: 'nodeLog', node: 'greet', stream: 'stdout', text: 'hello ' } },
      { type: 'runEvent', runId: 'r1', event: { event: 'nodeLog', node: 'greet', stream: 'stderr', text: 'world\n' } },
      { type: 'runEvent', runId: 'r1', event: { event: 'nodeEnd', node: 'greet', status: 'Completed', durationMs: 12, output: 'Hello' } },
      { type: 'runEvent', runId: 'r1', event: { event: 'nodeStart', node: 'render' } },
    );
    assert.strictEqual(s.run?.status, 'Running');
    assert.ok(isRunActive(s.run));
    assert.deepStrictEqual(
      s.run?.nodes.map((n) => [n.node, n.status, n.log, n.output]),
      [
        ['greet', 'Completed', 'hello world\n', 'Hello'],
        ['render', 'Running', '', undefined],
      ],
    );
    const ended = apply(s, { type: 'runEnded', runId: 'r1', status: 'Canceled', outputs: null, durationMs: 40 });
    assert.strictEqual(ended.run?.status, 'Canceled');
    assert.strictEqual(ended.run?.nodes[1].status, 'Canceled', 'a node still running when the run ends did not finish');
    assert.ok(!isRunActive(ended.run));
  });

  it('ignores events of another run and keeps unchanged parts identical', () => {
    const s = apply(start, { type: 'runStarted', runId: 'r1', startedAt: 't' });
    const same = apply(
      s,
      { type: 'runEvent', runId: 'old', event: { event: 'nodeStart', node: 'x' } },
      { type: 'runEnded', runId: 'old', status: 'Completed', outputs: {}, durationMs: 1 },
    );
    assert.strictEqual(same, s);
    const withPackages = apply(s, { type: 'packages', packages: { status: 'loading', items: [] } });
    assert.strictEqual(withPackages.run, s.run);
    assert.strictEqual(withPackages.history, s.history);
  });

  it('caps node logs and progress lines', () => {
    let s = apply(start, { type: 'runStarted', runId: 'r1', startedAt: 't' });
    const chunk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 6; i++)
      s = apply(s, { type: 'runEvent', runId: 'r1', event: { event: 'nodeLog', node: 'n', stream: 'stdout', text: chunk + i } });
    assert.ok(s.run!.nodes[0].log.length <= STATE_LIMITS.nodeLogChars);
    assert.ok(s.run!.nodes[0].log.endsWith('5'));
    assert.strictEqual(s.run!.nodes[0].logTruncated, true);
    for (let i = 0; i < 300; i++) s = apply(s, { type: 'progress', progress: { phase: 'installing', log: [`line ${i}`] } });
    assert.strictEqual(s.progress!.log.length, STATE_LIMITS.progressLines);
    assert.strictEqual(s.progress!.log.at(-1), 'line 299');
    assert.strictEqual(apply(s, { type: 'progress', progress: null }).progress, null);
  });

  it('keeps the percent within a phase and drops it when the phase changes', () => {
    const s = apply(
      start,
      { type: 'progress', progress: { phase: 'pulling', percent: 40 } },
      { type: 'progress', progress: { message: 'layer' } },
    );
    assert.strictEqual(s.progress!.percent, 40);
    assert.strictEqual(apply(s, { type: 'progress', progress: { phase: 'building' } }).progress!.percent, undefined);
  });

  it('replaces everything on a state message', () => {
    const other = { ...emptyState('/x', 'x'), history: [{ runId: 'a', kind: 'run' as const, status: 'Completed', time: 't', files: [] }] };
    assert.strictEqual(apply(start, { type: 'state', state: other }), other);
  });

  it("keeps the graph (the last readable one with the reason when the flow breaks), a run's timeline, comparisons and history traces", () => {
    const graph = { nodes: [{ id: 'node:a', kind: 'node' as const, name: 'a' }], edges: [] };
    const timeline = { rows: [], totalMs: 3, totals: { run: { input: 1, output: 2, total: 3 }, byNode: {}, llmCalls: 1 }, omitted: 0 };
    let s = apply(start, { type: 'graph', graph }, { type: 'graph', graph: null, error: 'flow.dag.yaml: bad (line 2)' });
    assert.strictEqual(s.graph, graph);
    assert.strictEqual(s.graphError, 'flow.dag.yaml: bad (line 2)');
    s = apply(s, { type: 'graph', graph });
    assert.strictEqual(s.graphError, undefined);
    s = apply(
      s,
      { type: 'runStarted', runId: 'r1', startedAt: 't' },
      { type: 'runEnded', runId: 'r1', status: 'Completed', outputs: {}, durationMs: 3, timeline },
      { type: 'comparison', comparison: { runs: [] } },
      { type: 'historyTrace', trace: { runId: 'r0', timeline } },
    );
    assert.strictEqual(s.run?.timeline, timeline);
    assert.deepStrictEqual(s.comparison, { runs: [] });
    assert.strictEqual(s.historyTrace?.runId, 'r0');
    s = apply(s, { type: 'comparison', comparison: null }, { type: 'historyTrace', trace: null });
    assert.strictEqual(s.comparison, null);
    assert.strictEqual(s.historyTrace, null);
  });
});
