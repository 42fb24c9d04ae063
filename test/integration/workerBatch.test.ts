import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { ContainerWorkers } from '../../src/core/runs/workers/containerWorkers';
import { runWorkerBatch, type WorkerSpec } from '../../src/core/runs/workers/workerBatch';
import { workerArgv, workerLabels } from '../../src/core/runs/workers/workerCommand';
import { IMAGE_PATHS, SESSION_USER } from '../../src/core/image/runtimeFiles';
import type { SessionManager } from '../../src/core/session/sessionManager';
import { json, runCli } from '../support/cli';
import { askPrompty } from '../support/flows/flexFixtures';
import { makeFlow, SLOW_FLOW, writeData } from '../support/flows/fixtures';
import { startOpenAiStub } from '../support/openaiStub';
import { waitUntil } from '../support/waiting';
import { testManager } from '../support/world/manager';
import { testEngine, world } from '../support/world/world';

const SECRET = `worker-secret-${Date.now().toString(36)}-do-not-leak`;

/** SLOW_FLOW (a slow line, so a worker can be killed mid-batch, and an aggregation node) reading a connection secret. */
const WORKER_FLOW = ((slow) => ({
  ...slow,
  'flow.dag.yaml': slow['flow.dag.yaml'].replace('    x: ${inputs.x}\n', '    x: ${inputs.x}\n    conn: vault\n'),
  'work.py': `import time
from promptflow import tool
from promptflow.connections import CustomConnection


@tool
def work(x: int, conn: CustomConnection) -> int:
    time.sleep(0.15)
    print("line", x)
    # the secret arrived with the lease: a wrong or missing one fails the line
    assert conn.secrets["key"].startswith("worker-secret-"), "no secret"
    return x * 2
`,
}))(SLOW_FLOW(150));

function docker(args: string[]): string {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
}

/** Worker containers that keep what a user could see of them (spec, logs) before they are removed. */
class ObservedWorkers extends ContainerWorkers {
  seen = '';
  inspected: {
    Config?: { User?: string; Labels?: Record<string, string> };
    HostConfig?: { CapDrop?: string[]; SecurityOpt?: string[] };
  }[] = [];
  override async stop(): Promise<void> {
    for (const id of this.containers) {
      const spec = docker(['inspect', id]);
      this.inspected.push(...(JSON.parse(spec) as ObservedWorkers['inspected']));
      this.seen += spec + docker(['logs', id]);
    }
    await super.stop();
  }
}

describe('batch workers: containers that dial the coordinator over TLS and take leases', function () {
  this.timeout(600_000);
  let manager: SessionManager;

  before(() => {
    manager = testManager();
  });

  after(() => manager?.dispose());

  it('runs every line once, in order, over 3 workers with one killed mid-batch; a worker without the token gets nothing', async () => {
    const flow = makeFlow(WORKER_FLOW);
    const data = writeData(flow, 240);
    const up = await manager.up(flow);
    assert.ok(up.image);
    const engine = testEngine();
    const labels = { 'flowsession.test': world().runId };
    const launcher = new ObservedWorkers(engine, { networkMode: 'host', labels });
    let impostor: string | undefined;
    let killed: string | undefined;
    const byWorker = new Map<string, number>();
    const events: string[] = [];
    const record = await runWorkerBatch(flow, {
      dataFile: data,
      image: up.image!,
      replicas: 3,
      workers: 4,
      launcher,
      aggregationSession: manager,
      connections: { vault: { type: 'CustomConnection', secrets: { key: SECRET }, configs: {} } },
      onWorker: (e) => events.push(`${e.kind} ${e.worker} ${e.lines ?? ''}`),
      onLaunched: (spec: Omit<WorkerSpec, 'token'>) => {
        // a worker that has the coordinator's address and fingerprint but not the token
        void (async () => {
          const { entrypoint, cmd } = workerArgv(spec);
          impostor = await engine.createContainer({
            image: spec.image,
            entrypoint,
            cmd,
            env: ['FLOWSESSION_BATCH_TOKEN=guessed'],
            user: SESSION_USER,
            workingDir: IMAGE_PATHS.flow,
            labels: { ...labels, role: 'impostor' },
            hardened: true,
            networkMode: 'host',
          });
          await engine.startContainer(impostor);
        })();
      },
      onLine: (_e, worker) => {
        const n = (byWorker.get(worker) ?? 0) + 1;
        byWorker.set(worker, n);
        // once a third of the lines are in, the first worker's container dies mid-lease
        if (!killed && [...byWorker.values()].reduce((a, b) => a + b, 0) >= 80 && launcher.containers[0]) {
          killed = launcher.containers[0];
          void engine.killContainer(killed);
        }
      },
    });
    assert.strictEqual(record.status, 'Completed', JSON.stringify(record.error));
    assert.strictEqual(record.total, 240);
    assert.strictEqual(record.failed, 0);
    assert.strictEqual(record.summary, 'All 240 runs completed');
    const out = fs
      .readFileSync(record.outputFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line_number: number; y: number });
    assert.deepStrictEqual(
      out.map((l) => l.line_number),
      Array.from({ length: 240 }, (_v, i) => i),
    );
    assert.ok(out.every((l) => l.y === l.line_number * 2));
    // aggregation once, over every line, in the coordinator's own session
    assert.deepStrictEqual(record.aggregation?.outputs, { total: { sum: 239 * 240, count: 240 } });
    // three workers joined and shared the lines; the killed one left, its lease went back to the others
    assert.strictEqual(record.workers.length, 3, events.join('\n'));
    assert.strictEqual(
      record.workers.reduce((n, w) => n + w.lines, 0),
      240,
    );
    assert.ok(killed);
    assert.ok(
      events.some((e) => e.startsWith('left ')),
      events.join('\n'),
    );
    assert.ok(record.workers.filter((w) => w.lines > 0).length >= 2);
    // the impostor was refused, exits with its own code and was never counted as a worker
    assert.ok(record.refusedConnections >= 1, events.join('\n'));
    await waitUntil('the impostor worker to exit', 60_000, async () => (await engine.inspectContainer(impostor!))?.running === false);
    const impostorState = await engine.inspectContainer(impostor!);
    assert.strictEqual(impostorState?.exitCode, 2);
    assert.match(docker(['logs', impostor!]), /does not know this worker/);
    // hardened like a session, and no connection secret in any spec, label or log of a worker
    assert.strictEqual(launcher.inspected.length, 3);
    const spec = launcher.inspected[1];
    assert.strictEqual(spec.Config?.User, SESSION_USER);
    assert.deepStrictEqual(spec.HostConfig?.CapDrop, ['ALL']);
    assert.deepStrictEqual(spec.HostConfig?.SecurityOpt, ['no-new-privileges']);
    assert.strictEqual(spec.Config?.Labels?.['flowsession.batch'], workerLabels({ runId: record.runId })['flowsession.batch']);
    assert.ok(launcher.seen.includes('FLOWSESSION_COORDINATOR_FINGERPRINT') || launcher.seen.includes('--fingerprint'));
    assert.ok(!launcher.seen.includes(SECRET), 'a connection secret reached a worker spec or log');
    // the worker containers are gone with the batch
    assert.deepStrictEqual(await engine.listContainers({ 'flowsession.batch': record.runId }), []);
    await engine.removeContainer(impostor!);
  });
  it("runs a flex class flow and a prompty on workers: --init and a prompty's ${env:VAR} key travel with each lease, __aggregate__ once", async () => {
    const stub = await startOpenAiStub(SECRET);
    const engine = testEngine();
    const labels = { 'flowsession.test': world().runId };
    try {
      const words = Array.from({ length: 12 }, (_v, i) => 'w'.repeat(i + 1));
      const flex = makeFlow({
        'flow.flex.yaml': 'entry: score:Score\n',
        'score.py': `class Score:
    def __init__(self, weight: int):
        self.weight = weight

    def __call__(self, word: str) -> dict:
        if len(word) == 3:
            raise ValueError("three is refused")
        return {"score": len(word) * self.weight}

    def __aggregate__(self, results):
        return {"total": sum(r["score"] for r in results), "lines": len(results)}
`,
        'data.jsonl': words.map((w) => JSON.stringify({ w })).join('\n') + '\n',
      });
      const up = await manager.up(flex);
      const flexWorkers = new ObservedWorkers(engine, { networkMode: 'host', labels });
      const scored = await runWorkerBatch(flex, {
        dataFile: `${flex}/data.jsonl`,
        image: up.image!,
        replicas: 2,
        workers: 2,
        maxChunk: 3,
        launcher: flexWorkers,
        aggregationSession: manager,
        columnMapping: { word: '${data.w}' },
        init: { weight: 10 },
      });
      assert.strictEqual(scored.status, 'Completed', JSON.stringify(scored.error));
      assert.deepStrictEqual([scored.total, scored.failed], [12, 1]);
      const kept = words.filter((w) => w.length !== 3).map((w) => w.length * 10);
      // one __aggregate__ over every completed line, whichever worker ran it, recorded as metrics
      assert.deepStrictEqual(scored.metrics, { total: kept.reduce((a, b) => a + b, 0), lines: 11 });
      const rows = fs
        .readFileSync(scored.outputFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { line_number: number; score?: number; error?: { message: string } });
      assert.deepStrictEqual(
        rows.map((r) => [r.line_number, r.score]),
        words.map((w, i) => [i, w.length === 3 ? undefined : w.length * 10]),
      );
      assert.match(rows[2].error!.message, /three is refused/);

      const prompty = makeFlow({
        'ask.prompty': askPrompty(stub.url, 'WORKER_PROMPTY_KEY'),
        'data.jsonl': ['{"question": "one"}', '{"question": "two"}', '{"question": "three"}'].join('\n') + '\n',
      });
      const promptyUp = await manager.up(prompty);
      const promptyWorkers = new ObservedWorkers(engine, { networkMode: 'host', labels });
      const asked = await runWorkerBatch(`${prompty}/ask.prompty`, {
        dataFile: `${prompty}/data.jsonl`,
        image: promptyUp.image!,
        replicas: 1,
        launcher: promptyWorkers,
        aggregationSession: manager,
        env: { WORKER_PROMPTY_KEY: SECRET },
      });
      assert.strictEqual(asked.status, 'Completed', JSON.stringify(asked.error));
      assert.strictEqual(asked.failed, 0);
      assert.strictEqual(asked.aggregation, null);
      const answers = fs
        .readFileSync(asked.outputFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { output: string }).output);
      assert.deepStrictEqual(answers, ['echo: one', 'echo: two', 'echo: three']);
      assert.ok(stub.requests.every((q) => q.headers.authorization === `Bearer ${SECRET}`));
      assert.ok(!promptyWorkers.seen.includes(SECRET), 'the key reached a worker spec or log');
    } finally {
      await stub.close();
    }
  });

  it('runs from the CLI: flowsession batch --on containers --replicas 2, and refuses bad --on flags', async () => {
    const flow = makeFlow(SLOW_FLOW(20));
    const data = writeData(flow, 50);
    const r = await runCli(['batch', flow, '--data', data, '--on', 'containers', '--replicas', '2', '--workers', '2', '--json']);
    assert.strictEqual(r.code, 0, r.stderr.slice(-2000));
    const doc = json<{ status: string; total: number; on: string; workers: { lines: number }[]; aggregation: unknown; output: string }>(r);
    assert.strictEqual(doc.status, 'Completed');
    assert.strictEqual(doc.on, 'containers');
    assert.strictEqual(doc.total, 50);
    assert.strictEqual(
      doc.workers.reduce((n, w) => n + w.lines, 0),
      50,
    );
    assert.deepStrictEqual(doc.aggregation, { total: { sum: 49 * 50, count: 50 } });
    assert.match(r.stderr, /2 workers asked of containers/);
    assert.deepStrictEqual(await testEngine().listContainers({ 'flowsession.role': 'batch-worker' }), []);
    const bad = await runCli(['batch', flow, '--data', data, '--on', 'mesos']);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /--on takes swarm, kubernetes, containers/);
    const both = await runCli(['batch', flow, '--data', data, '--on', 'swarm', '--engines', 'default']);
    assert.strictEqual(both.code, 2);
    const k8s = await runCli(['batch', flow, '--data', data, '--on', 'kubernetes']);
    assert.strictEqual(k8s.code, 1);
    assert.match(k8s.stderr, /registry/);
  });

  it('refuses a flow folder too large for the workers before any image, container or service is made', async () => {
    const flow = makeFlow(SLOW_FLOW(1));
    const data = writeData(flow, 3);
    // 50 MB a worker's welcome could never carry (sparse: nothing is written); the flow never reads it
    fs.writeFileSync(`${flow}/weights.bin`, '');
    fs.truncateSync(`${flow}/weights.bin`, 50 * 1024 * 1024);
    const manager = testManager();
    try {
      // containers on this engine, and a swarm whose registry does not answer: neither gets as far as a push or a manager check
      for (const where of [
        ['--on', 'containers'],
        ['--on', 'swarm', '--registry', '127.0.0.1:1'],
      ]) {
        const r = await runCli(['batch', flow, '--data', data, ...where, '--replicas', '2']);
        assert.strictEqual(r.code, 1, r.stderr.slice(-2000));
        assert.match(r.stderr, /too large to send to batch workers: 66\.\d MB encoded/);
        assert.match(r.stderr, /Largest files: weights\.bin \(50\.0 MB\)/);
        assert.match(r.stderr, /Move large files the flow does not read/);
        assert.doesNotMatch(r.stderr, /pushing|Building|workers asked of/i);
        // no session (so no environment image work) was made for the flow
        assert.strictEqual((await manager.status(flow)).state, 'not-created');
      }
    } finally {
      manager.dispose();
    }
  });
});
