import * as assert from 'assert';
import * as fs from 'fs';
import { spawnSync } from 'child_process';
import { SwarmServices } from '../../src/core/docker/swarmServices';
import { runWorkerBatch } from '../../src/core/runs/workers/workerBatch';
import { SwarmWorkers } from '../../src/core/runs/workers/swarmWorkers';
import { json, spawnCli } from '../support/cli';
import Docker from 'dockerode';
import { modemOptions } from '../../src/core/docker/endpoint';
import { HELLO_FLOW, makeFlow, SLOW_FLOW, writeData } from '../support/flows/fixtures';
import { waitUntil, within } from '../support/waiting';
import { startSwarm, swarmBatchArgs, type TestSwarm } from '../support/world/swarm';
import { testEngine, world } from '../support/world/world';

const log = (l: string) => process.stderr.write(`[swarm] ${l}\n`);

/** SLOW_FLOW whose lines also report who runs them and whether the process may gain privileges. */
function hardeningFlow(delayMs: number): Record<string, string> {
  const flow = SLOW_FLOW(delayMs);
  return {
    ...flow,
    'flow.dag.yaml': flow['flow.dag.yaml']
      .replace('nodes:\n', 'nodes:\n- name: who\n  type: python\n  source: {type: code, path: who.py}\n  inputs: {}\n')
      .replace('outputs:\n', 'outputs:\n  who:\n    type: string\n    reference: ${who.output}\n'),
    'who.py': `import os
from promptflow import tool


@tool
def who() -> str:
    nnp = [l.split()[1] for l in open("/proc/self/status") if l.startswith("NoNewPrivs")][0]
    caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
    return "%d nnp=%s caps=%s" % (os.getuid(), nnp, caps)
`,
  };
}

/** The swarm service of a batch as `docker service inspect` shows it, kept before stop() removes it. */
class ObservedSwarmWorkers extends SwarmWorkers {
  inspected = '';
  constructor(
    private readonly services: SwarmServices,
    private readonly managerHost: string,
    labels: Record<string, string>,
  ) {
    super(services, { labels });
  }
  override async stop(): Promise<void> {
    const ours = await this.services.list({ 'flowsession.role': 'batch-worker', 'flowsession.test': world().runId });
    for (const s of ours)
      this.inspected += spawnSync('docker', ['-H', this.managerHost, 'service', 'inspect', s.id], { encoding: 'utf8' }).stdout;
    await super.stop();
  }
}

interface SwarmBatchJson {
  status: string;
  total: number;
  failed: number;
  summary: string;
  output: string;
  aggregation: Record<string, unknown> | null;
  on: string;
  replicas: number;
  requeued: number;
  workers: { name: string; lines: number; left?: string }[];
  error: { code: string; message: string } | null;
}

describe('batch on Docker Swarm: a real swarm of dockerd nodes in network namespaces', function () {
  this.timeout(900_000);
  let swarm: TestSwarm;

  before(async () => {
    swarm = await startSwarm(world().runDir, 3, testEngine(), world().registry, log);
  });

  after(async () => {
    await swarm?.stop();
  });

  const cliEnv = () => ({ DOCKER_HOST: swarm.manager.host, FLOWSESSION_DOCKER_HOST: undefined });
  const swarmArgs = (flow: string, data: string, replicas: number) => swarmBatchArgs(swarm, flow, data, replicas, 4);

  it('runs 2,000 lines over 6 replicas; a node lost mid-batch costs no line and counts none twice', async () => {
    const flow = makeFlow(hardeningFlow(250));
    const data = writeData(flow, 2000);
    const started = Date.now();
    const cli = spawnCli(swarmArgs(flow, data, 6), cliEnv());
    // once all six workers are in and the batch is well under way, the third node goes: its dockerd, containerd
    // and workers at once
    const joined = () => (cli.stderr.match(/\] joined/g) ?? []).length;
    await waitUntil(
      '6 workers in and 300 lines done',
      600_000,
      () => (joined() >= 6 && /\b[3-9]00 lines done/.test(cli.stderr)) || cli.stderr.includes('flowsession:'),
    );
    // the service is hardened as a session is
    const api = new Docker(modemOptions(swarm.manager.engine.endpoint.options));
    const [service] = await api.listServices({ filters: { label: ['flowsession.role=batch-worker'] } });
    const task = service.Spec?.TaskTemplate as { ContainerSpec: Record<string, unknown>; Resources: { Limits: Record<string, number> } };
    assert.strictEqual(task.ContainerSpec.User, '10001:10001');
    assert.deepStrictEqual(task.ContainerSpec.CapabilityDrop, ['ALL']);
    assert.strictEqual(task.Resources.Limits.Pids, 4096);
    assert.ok(task.Resources.Limits.MemoryBytes > 0 && task.Resources.Limits.NanoCPUs > 0);
    assert.ok(!JSON.stringify(service.Spec).includes('"Mounts"'), 'no mounts (no engine socket, no shared disk)');
    const victim = swarm.nodes[2];
    log(`killing node ${victim.name} (${victim.address})`);
    swarm.killNode(victim);
    const r = await cli.exited;
    log(`2,000 lines over 6 replicas on 3 nodes, one lost: ${r.ms} ms (${Date.now() - started} ms)`);
    assert.strictEqual(r.code, 0, r.stderr.slice(-3000));
    const doc = json<SwarmBatchJson>(r);
    assert.strictEqual(doc.status, 'Completed');
    assert.strictEqual(doc.on, 'swarm');
    assert.strictEqual(doc.total, 2000);
    assert.strictEqual(doc.failed, 0);
    assert.strictEqual(doc.summary, 'All 2000 runs completed');
    const out = fs
      .readFileSync(doc.output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line_number: number; y: number; who: string });
    assert.deepStrictEqual(
      out.map((l) => l.line_number),
      Array.from({ length: 2000 }, (_v, i) => i),
    );
    assert.ok(out.every((l) => l.y === l.line_number * 2));
    // every line ran as the session user, unable to gain privileges, with no capabilities
    assert.deepStrictEqual([...new Set(out.map((l) => l.who))], ['10001 nnp=1 caps=0000000000000000']);
    assert.deepStrictEqual(doc.aggregation, { total: { sum: 1999 * 2000, count: 2000 } });
    assert.strictEqual(
      doc.workers.reduce((n, w) => n + w.lines, 0),
      2000,
    );
    assert.ok(doc.workers.length >= 6, JSON.stringify(doc.workers));
    // the lost node's workers left mid-lease: their lines went to the others
    assert.ok(/left:|went silent/.test(r.stderr), r.stderr.slice(-3000));
    assert.ok(doc.requeued > 0, r.stderr.slice(-3000));
    // the service is gone with the batch
    const services = new SwarmServices(swarm.manager.engine.endpoint);
    assert.deepStrictEqual(await services.list({ 'flowsession.role': 'batch-worker' }), []);
  });

  it('Ctrl-C ends the batch and removes its service', async () => {
    const flow = makeFlow(SLOW_FLOW(300));
    const data = writeData(flow, 400);
    const cli = spawnCli(swarmArgs(flow, data, 2), cliEnv());
    await waitUntil('a worker to join', 300_000, () => /joined/.test(cli.stderr) || cli.stderr.includes('flowsession:'));
    const services = new SwarmServices(swarm.manager.engine.endpoint);
    assert.strictEqual((await services.list({ 'flowsession.role': 'batch-worker' })).length, 1);
    cli.signal('SIGINT');
    const r = await cli.exited;
    assert.strictEqual(r.code, 1, r.stderr.slice(-2000));
    assert.strictEqual(json<SwarmBatchJson>(r).error?.code, 'Cancelled');
    assert.deepStrictEqual(await services.list({ 'flowsession.role': 'batch-worker' }), []);
  });

  it('a batch whose workers cannot start ends as WorkersFailed and removes its service; no connection secret in the service', async () => {
    const flow = makeFlow(HELLO_FLOW);
    const data = writeData(flow, 10);
    const secret = `swarm-secret-${Date.now().toString(36)}`;
    const services = new SwarmServices(swarm.manager.engine.endpoint);
    const launcher = new ObservedSwarmWorkers(services, swarm.manager.host, { 'flowsession.test': world().runId });
    // an image no node can pull: every task is rejected, swarm retries each a few times, then gives up
    const record = await within(
      'the batch to fail',
      300_000,
      runWorkerBatch(flow, {
        dataFile: data,
        image: `${swarm.registry}/flowsession-test/absent:${world().runId}`,
        replicas: 2,
        launcher,
        listenHost: swarm.hostAddress,
        connections: { vault: { type: 'CustomConnection', secrets: { key: secret }, configs: {} } },
      }),
    );
    assert.strictEqual(record.status, 'Failed');
    assert.strictEqual(record.error?.code, 'WorkersFailed', JSON.stringify(record.error));
    assert.match(record.error.message, /every worker task of the swarm service ended/);
    assert.strictEqual(record.total, 0);
    // the service existed with the batch's label, hardened, and without the secret; it is gone with the batch
    assert.match(launcher.inspected, new RegExp(`"flowsession.batch": "${record.runId}"`));
    assert.match(launcher.inspected, /"CapabilityDrop": \[\s*"ALL"\s*\]/);
    assert.ok(!launcher.inspected.includes(secret), 'a connection secret reached the service spec');
    assert.deepStrictEqual(await services.list({ 'flowsession.batch': record.runId }), []);
  });
});
