/**
 * Mode A (extension host): "Run Batch…" asks where to run the batch and gives the same results wherever it ran.
 * The command runs for real with its pickers answered by the test: the data file, the target (this session, several
 * engines: the local one and a second dockerd of the test's own, worker containers on the local engine: the workers
 * of a swarm service or a Kubernetes Job, dialing this window over TLS, without a swarm, or a one-node swarm), the
 * replicas. Every batch leaves a run history entry, prompt flow's output, metrics and "N out of M runs failed";
 * cancelling a batch on workers removes its containers. Worker containers carry the test world's label
 * (FLOWSESSION_EXTRA_LABELS) and the batch's label; the test removes what it made.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { readRunHistory, type RunHistoryEntry } from '../../../src/core/runs/runHistory';
import type { FlowSessionApi } from '../../../src/extension';
import { SwarmServices } from '../../../src/core/docker/swarmServices';
import { SLOW_FLOW } from '../../support/flows/fixtures';
import { waitUntil } from '../../support/waiting';
import { startSecondEngine } from '../../support/world/secondEngine';
import { startSwarm } from '../../support/world/swarm';
import { cleanUp, testEngine, world } from '../../support/world/world';

const EXTENSION_ID = 'flowsession.flowsession';

async function api(): Promise<FlowSessionApi> {
  const ext = vscode.extensions.getExtension<FlowSessionApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  return ext.isActive ? ext.exports : ext.activate();
}

/** SLOW_FLOW with a `delay` input for each line, a line that fails on x = 3, and an aggregation that logs metrics. */
const FLOW = ((slow) => ({
  'flow.dag.yaml': slow['flow.dag.yaml']
    .replace('    type: int\noutputs:', '    type: int\n  delay:\n    type: double\n    default: 0\noutputs:')
    .replace('    x: ${inputs.x}\n', '    x: ${inputs.x}\n    delay: ${inputs.delay}\n'),
  'work.py': `import time
from promptflow import tool


@tool
def work(x: int, delay: float = 0) -> int:
    time.sleep(delay)
    if x == 3:
        raise ValueError("three is not allowed")
    return x * 2
`,
  'total.py': slow['total.py']
    .replace('from promptflow import tool', 'from promptflow import log_metric, tool')
    .replace('    return {', '    log_metric("sum", sum(values))\n    log_metric("count", len(values))\n    return {'),
}))(SLOW_FLOW(0));

interface Item extends vscode.QuickPickItem {
  target?: string;
}

/** What the user saw of one "Run Batch…": the targets offered, the boxes asked, progress and the final notification. */
interface Seen {
  targets: string[];
  /** the Docker contexts offered by "Several engines…" */
  engines?: string[];
  boxes: string[];
  progress: string[];
  message?: string;
}

describe('Run Batch… where to run it', function () {
  this.timeout(900_000);
  let a: FlowSessionApi;
  let flowDir: string;
  const win = vscode.window as unknown as Record<string, unknown>;
  const replaced = ['showOpenDialog', 'showQuickPick', 'showInputBox', 'showInformationMessage', 'showWarningMessage', 'withProgress'];
  const original = Object.fromEntries(replaced.map((k) => [k, win[k]]));
  /** the answers of the next Run Batch… */
  let answers: { data: string; target: string; replicas: string; coordinatorHost?: string; engines?: string[]; moreEngines?: string } = {
    data: '',
    target: '',
    replicas: '2',
  };
  let seen: Seen;
  /** cancels the batch under way, as the notification's Cancel button does */
  const progressOf = { cancel: undefined as (() => void) | undefined };

  const dataFile = (name: string, lines: Record<string, unknown>[]) => {
    const file = path.join(path.dirname(flowDir), `${name}.jsonl`);
    fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    return file;
  };

  /** Runs "Run Batch…" with the given answers; resolves with what it showed and the history entry it added. */
  const runBatch = async (
    data: string,
    target: string,
    more: Pick<typeof answers, 'coordinatorHost' | 'engines' | 'moreEngines'> = {},
  ): Promise<{ seen: Seen; entry: RunHistoryEntry }> => {
    const before = new Set((await readRunHistory(flowDir)).map((r) => r.runId));
    answers = { data, target, replicas: '2', ...more };
    seen = { targets: [], boxes: [], progress: [] };
    await vscode.commands.executeCommand('flowsession.runBatch', flowDir);
    const added = (await readRunHistory(flowDir)).filter((r) => !before.has(r.runId));
    assert.strictEqual(added.length, 1, `one new run history entry: ${added.map((r) => r.runId).join(', ')}`);
    return { seen, entry: added[0] };
  };

  const results = (entry: RunHistoryEntry) => {
    const read = (f: string) => fs.readFileSync(path.join(entry.dir, f), 'utf8');
    const summary = JSON.parse(read('summary.json')) as Record<string, unknown> & { aggregation?: { status: string; outputs: unknown } };
    return {
      output: read('output.jsonl')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
      summary: {
        status: summary.status,
        total: summary.total,
        completed: summary.completed,
        failed: summary.failed,
        summary: summary.summary,
        // the aggregation's node runs carry their own times: its status and outputs are the results
        aggregation: { status: summary.aggregation?.status, outputs: summary.aggregation?.outputs },
      },
      metrics: JSON.parse(read('metrics.json')) as unknown,
    };
  };

  const ourWorkers = async () => {
    const { engine } = await a.ctx.services();
    const prefix = `${path.basename(flowDir)}_batch_`;
    return (await engine.listContainers({ 'flowsession.role': 'batch-worker' })).filter((c) =>
      String(c.labels['flowsession.batch']).startsWith(prefix),
    );
  };

  before(async () => {
    assert.ok(process.env.FLOWSESSION_BASE_IMAGE, 'FLOWSESSION_BASE_IMAGE points sessions at a local test image');
    a = await api();
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(root, 'a workspace folder');
    flowDir = path.join(root, 'batch-targets');
    fs.mkdirSync(flowDir, { recursive: true });
    for (const [name, text] of Object.entries(FLOW)) fs.writeFileSync(path.join(flowDir, name), text);
    win.showOpenDialog = async () => [vscode.Uri.file(answers.data)];
    win.showQuickPick = async (items: readonly Item[] | Thenable<readonly Item[]>, o?: vscode.QuickPickOptions) => {
      const list = await items;
      if (o?.title === 'Run the batch on which engines? (Docker contexts)') {
        assert.ok(o.canPickMany, 'the engines are picked several at once');
        seen.engines = list.map((i) => i.label);
        return list.filter((i) => answers.engines?.includes(i.label));
      }
      assert.strictEqual(o?.title, 'Run the batch where?', `an unexpected pick list: ${o?.title}`);
      seen.targets = list.map((i) => i.label);
      return list.find((i) => i.label === answers.target);
    };
    win.showInputBox = async (o: vscode.InputBoxOptions) => {
      seen.boxes.push(String(o.title));
      const title = String(o.title);
      const answer = /^Workers/.test(title)
        ? answers.replicas
        : /reach this machine at/.test(title)
          ? (answers.coordinatorHost ?? o.value)
          : /^More engines by address/.test(title)
            ? (answers.moreEngines ?? '')
            : o.value;
      assert.strictEqual(await o.validateInput?.(answer ?? ''), undefined, `${o.title}: ${answer}`);
      return answer;
    };
    const shown = async (message: string) => {
      seen.message = message;
      return undefined;
    };
    win.showInformationMessage = shown;
    win.showWarningMessage = shown;
    // the real notification progress, watched and cancellable by the test
    win.withProgress = <R>(
      options: vscode.ProgressOptions,
      task: (p: vscode.Progress<{ message?: string; increment?: number }>, t: vscode.CancellationToken) => Thenable<R>,
    ) =>
      (original.withProgress as typeof vscode.window.withProgress)(options, (progress, token) => {
        const source = new vscode.CancellationTokenSource();
        token.onCancellationRequested(() => source.cancel());
        progressOf.cancel = () => source.cancel();
        return task(
          {
            report: (v) => {
              if (v.message) seen.progress.push(v.message);
              progress.report(v);
            },
          },
          source.token,
        );
      });
  });

  after(async () => {
    Object.assign(win, original);
    if (!a || !flowDir) return;
    const { engine, manager } = await a.ctx.services();
    for (const c of await ourWorkers().catch(() => [])) await engine.removeContainer(c.id).catch(() => undefined);
    await manager.remove(flowDir).catch(() => undefined);
    // the other suites look for flows in the same workspace: leave it as it was
    for (const f of [flowDir, ...['six', 'slow', 'hundred'].map((n) => path.join(path.dirname(flowDir), `${n}.jsonl`))])
      fs.rmSync(f, { recursive: true, force: true });
  });

  const SIX = Array.from({ length: 6 }, (_v, x) => ({ x }));
  let inSession: ReturnType<typeof results>;

  it('offers this session, several engines, a swarm and worker containers; runs in the session with prompt flow results', async () => {
    const { seen: s, entry } = await runBatch(dataFile('six', SIX), 'This session');
    assert.deepStrictEqual(s.targets, ['This session', 'Several engines…', 'Docker Swarm…', 'Worker containers…']);
    assert.deepStrictEqual(s.boxes, [], 'this session asks nothing more');
    assert.strictEqual(entry.kind, 'batch');
    assert.strictEqual(entry.status, 'Completed');
    assert.ok(
      s.progress.some((m) => /lines done/.test(m)),
      s.progress.join('\n'),
    );
    assert.strictEqual(s.message, 'Batch run of batch-targets: 1 out of 6 runs failed.');
    inSession = results(entry);
    // prompt flow's output.jsonl: every line in input order, the failed one with its error
    assert.deepStrictEqual(
      inSession.output.map((l) => [l.line_number, l.y ?? (l.error as { code?: string } | undefined)?.code]),
      [
        [0, 0],
        [1, 2],
        [2, 4],
        [3, 'ToolExecutionError'],
        [4, 8],
        [5, 10],
      ],
    );
    assert.deepStrictEqual(inSession.metrics, { sum: 24, count: 5 });
    assert.strictEqual(inSession.summary.summary, '1 out of 6 runs failed');
    // the lines' spans, written by the extension from the records the lines sent: a span per line under the batch's
    const doc = JSON.parse(fs.readFileSync(path.join(entry.dir, 'trace.json'), 'utf8')) as {
      resourceSpans: { scopeSpans: { spans: { name: string; parentSpanId?: string; spanId: string; status: { code: number } }[] }[] }[];
    };
    const spans = doc.resourceSpans[0].scopeSpans[0].spans;
    const batch = spans.find((sp) => sp.name === 'batch');
    const lines = spans.filter((sp) => /^line \d$/.test(sp.name));
    assert.ok(batch, spans.map((sp) => sp.name).join(', '));
    assert.deepStrictEqual(
      lines.map((sp) => [sp.name, sp.parentSpanId === batch.spanId, sp.status.code]).sort(),
      [0, 1, 2, 3, 4, 5].map((i) => [`line ${i}`, true, i === 3 ? 2 : 1]),
    );
  });

  it('runs on worker containers of the local engine with the same progress, history entry and results, and removes them', async () => {
    assert.ok(inSession, 'the session batch ran first');
    const { seen: s, entry } = await runBatch(dataFile('six', SIX), 'Worker containers…');
    assert.deepStrictEqual(s.boxes, ['Workers (containers on this engine)'], 'a local engine needs no coordinator address');
    assert.strictEqual(entry.kind, 'batch');
    assert.strictEqual(entry.status, 'Completed');
    assert.ok(
      s.progress.some((m) => /lines done \(line \d: (Completed|Failed) on /.test(m)),
      s.progress.join('\n'),
    );
    assert.strictEqual(s.message, 'Batch run of batch-targets on containers: 1 out of 6 runs failed.');
    assert.deepStrictEqual(results(entry), inSession);
    const summary = JSON.parse(fs.readFileSync(path.join(entry.dir, 'summary.json'), 'utf8')) as {
      on: string;
      replicas: number;
      workers: { lines: number }[];
    };
    assert.strictEqual(summary.on, 'containers');
    assert.strictEqual(summary.replicas, 2);
    assert.strictEqual(
      summary.workers.reduce((n, w) => n + w.lines, 0),
      6,
    );
    assert.deepStrictEqual(await ourWorkers(), [], 'the worker containers are gone with the batch');
  });

  it('runs on a Docker Swarm service (a one-node swarm of the test) with the same results, and removes the service', async () => {
    assert.ok(inSession, 'the session batch ran first');
    // a dockerd in a network namespace of the test as the swarm manager: the main engine never enters swarm mode
    const swarm = await startSwarm(world().runDir, 1, testEngine(), world().registry, (l) => console.log(`[swarm] ${l}`));
    const config = vscode.workspace.getConfiguration('flowsession');
    try {
      await config.update('dockerHost', swarm.manager.host, vscode.ConfigurationTarget.Workspace);
      await waitUntil('the services on the swarm manager', 60_000, async () =>
        (await a.ctx.services()).engine.endpoint.host === swarm.manager.host ? true : undefined,
      );
      const { seen: s, entry } = await runBatch(dataFile('six', SIX), 'Docker Swarm…', { coordinatorHost: swarm.hostAddress });
      assert.deepStrictEqual(s.boxes, ['Workers (swarm service replicas)', 'The address the swarm nodes reach this machine at']);
      assert.strictEqual(s.message, 'Batch run of batch-targets on swarm: 1 out of 6 runs failed.');
      assert.ok(
        s.progress.some((m) => /lines done \(line \d: (Completed|Failed) on /.test(m)),
        s.progress.join('\n'),
      );
      assert.deepStrictEqual(results(entry), inSession);
      const summary = JSON.parse(fs.readFileSync(path.join(entry.dir, 'summary.json'), 'utf8')) as { on: string; runId: string };
      assert.strictEqual(summary.on, 'swarm');
      const services = new SwarmServices(swarm.manager.engine.endpoint);
      assert.deepStrictEqual(await services.list({ 'flowsession.batch': summary.runId }), [], 'the service is gone with the batch');
    } finally {
      await (await a.ctx.services()).manager.remove(flowDir).catch(() => undefined);
      await config.update('dockerHost', undefined, vscode.ConfigurationTarget.Workspace);
      await swarm.stop();
    }
  });

  it('runs on several engines picked in the editor (this one and a second dockerd) as one run with the same results', async () => {
    // a second engine of the test's own: a dockerd with its own data root and socket, sessions on host networking
    const e2 = await startSecondEngine(world().runDir, testEngine(), (l) => console.log(`[engine2] ${l}`));
    const config = vscode.workspace.getConfiguration('flowsession');
    /** the extension's own services, once they use the engine of `host` (undefined: the local engine) */
    const servicesOn = async (host: string | undefined) => {
      await config.update('dockerHost', host, vscode.ConfigurationTarget.Workspace);
      return waitUntil(`the services on ${host ?? 'the local engine'}`, 60_000, async () => {
        const services = await a.ctx.services();
        return (host ? services.engine.endpoint.host === host : services.engine.endpoint.host !== e2.unixHost) ? services : undefined;
      });
    };
    try {
      // both sessions up before the batch, so both engines are ready for their first share at about the same time:
      // with the editor's 16 workers a share is at least 64 lines, and 100 lines of a second each make two shares
      await (await servicesOn(e2.unixHost)).manager.up(flowDir);
      await (await servicesOn(undefined)).manager.up(flowDir);
      const lines = Array.from({ length: 100 }, (_v, x) => ({ x, delay: 1 }));
      const { seen: s, entry } = await runBatch(dataFile('hundred', lines), 'Several engines…', {
        engines: ['default'],
        moreEngines: e2.unixHost,
      });
      assert.ok(s.engines?.includes('default'), `the local engine is offered: ${s.engines?.join(', ')}`);
      assert.deepStrictEqual(s.boxes, ['More engines by address (optional)']);
      assert.strictEqual(entry.kind, 'batch');
      assert.strictEqual(entry.status, 'Completed');
      assert.strictEqual(s.message, 'Batch run of batch-targets on 2 engines: 1 out of 100 runs failed.');
      assert.ok(
        s.progress.some((m) => /lines done \(line \d+: (Completed|Failed) on default\)/.test(m)),
        s.progress.join('\n'),
      );
      const r = results(entry);
      // prompt flow's output.jsonl: every line once, in input order, the failed one with its error, whichever engine ran it
      assert.deepStrictEqual(
        r.output.map((l) => [l.line_number, l.y ?? (l.error as { code?: string } | undefined)?.code]),
        lines.map(({ x }) => [x, x === 3 ? 'ToolExecutionError' : x * 2]),
      );
      const doubled = lines.filter(({ x }) => x !== 3).map(({ x }) => x * 2);
      const sum = doubled.reduce((n, y) => n + y, 0);
      // the aggregation once, over every completed line of both engines
      assert.deepStrictEqual(r.metrics, { sum, count: 99 });
      assert.deepStrictEqual(r.summary, {
        status: 'Completed',
        total: 100,
        completed: 99,
        failed: 1,
        summary: '1 out of 100 runs failed',
        aggregation: { status: 'Completed', outputs: { total: { sum, count: 99 } } },
      });
      const summary = JSON.parse(fs.readFileSync(path.join(entry.dir, 'summary.json'), 'utf8')) as {
        engines: { name: string; lines: number }[];
      };
      assert.deepStrictEqual(
        summary.engines.map((e) => e.name),
        ['default', e2.unixHost],
      );
      assert.ok(
        summary.engines.every((e) => e.lines > 0),
        `both engines ran lines: ${JSON.stringify(summary.engines)}`,
      );
      assert.strictEqual(
        summary.engines.reduce((n, e) => n + e.lines, 0),
        100,
      );
    } finally {
      await servicesOn(undefined).catch(() => undefined);
      // the session on the second engine carries the test world's label: it goes with the engine's clean-up
      await cleanUp(e2.engine, world().runId).catch((e) => console.log(`[engine2] clean-up failed: ${(e as Error).message}`));
      await e2.stop();
    }
  });

  it('cancelling a batch on worker containers ends it and removes its containers', async () => {
    const slow = dataFile(
      'slow',
      Array.from({ length: 40 }, (_v, x) => ({ x: x + 10, delay: 0.5 })),
    );
    const before = new Set((await readRunHistory(flowDir)).map((r) => r.runId));
    answers = { data: slow, target: 'Worker containers…', replicas: '2' };
    seen = { targets: [], boxes: [], progress: [] };
    const running = vscode.commands.executeCommand('flowsession.runBatch', flowDir);
    await waitUntil('a line done on a worker', 300_000, () => seen.progress.some((m) => /lines done/.test(m)));
    assert.strictEqual((await ourWorkers()).length, 2);
    assert.ok(progressOf.cancel, 'the batch shows cancellable progress');
    progressOf.cancel();
    await running;
    assert.match(
      String(seen.message),
      /^Batch run of batch-targets on containers: .*Cancelled: The batch was canceled after \d+ of 40 lines\.$/,
    );
    const added = (await readRunHistory(flowDir)).filter((r) => !before.has(r.runId));
    assert.strictEqual(added.length, 1);
    assert.strictEqual(added[0].status, 'Failed');
    assert.deepStrictEqual(await ourWorkers(), [], 'the worker containers are gone with the cancelled batch');
  });
});
