import * as assert from 'assert';
import * as path from 'path';
import Docker from 'dockerode';
import { startDebugRun } from '../../src/core/debug/debugRun';
import type { FlowDebugConfiguration } from '../../src/core/debug/launchConfig';
import { resolveEndpoint } from '../../src/core/docker/endpoint';
import { DockerEngine } from '../../src/core/docker/dockerEngine';
import { FlowSessionError } from '../../src/core/errors';
import { runMultiEngineBatch, type BatchEngine } from '../../src/core/runs/multiEngineBatch';
import { RunService } from '../../src/core/runs/runService';
import type { SessionManager } from '../../src/core/session/sessionManager';
import { FlowValidator } from '../../src/core/validation/flowValidator';
import { json, runCli } from '../support/cli';
import { DapTestClient } from '../support/dapClient';
import { outputRows } from '../support/flows/flexFixtures';
import { startLineGate } from '../support/lineGate';
import { HELLO_FLOW, makeFlow, SLOW_FLOW, writeData } from '../support/flows/fixtures';
import { testServices } from '../support/world/manager';
import { startSecondEngine, type SecondEngine } from '../support/world/secondEngine';
import { startSshServer, type SshServer } from '../support/world/sshServer';
import { cleanUp, testEngine, world } from '../support/world/world';

const log = (l: string) => process.stderr.write(`[remote] ${l}\n`);

const DEBUG_FLOW = {
  'flow.dag.yaml':
    'inputs:\n  value:\n    type: int\noutputs:\n  tripled:\n    type: int\n    reference: ${triple.output}\nnodes:\n- name: triple\n  type: python\n  source: {type: code, path: triple.py}\n  inputs: {value: "${inputs.value}"}\n',
  'triple.py': 'from promptflow import tool\n\n\n@tool\ndef triple(value: int) -> int:\n    tripled = value * 3\n    return tripled\n',
};

function managerOn(engine: DockerEngine): SessionManager {
  return testServices({}, { engine }).manager;
}

async function expectFailure(p: Promise<unknown>): Promise<FlowSessionError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof FlowSessionError, `not a FlowSessionError: ${(e as Error).stack}`);
    return e;
  }
  throw new Error('expected a failure');
}

describe('remote engines: a second dockerd over TCP+TLS and over ssh', function () {
  this.timeout(600_000);
  let e2: SecondEngine;
  let sshd: SshServer;
  const managers: SessionManager[] = [];
  const track = (m: SessionManager) => (managers.push(m), m);

  before(async () => {
    const w = world();
    e2 = await startSecondEngine(w.runDir, testEngine(), log);
    sshd = await startSshServer(w.runDir, e2.unixHost, log);
  });

  after(async () => {
    for (const m of managers) m.dispose();
    if (e2) await cleanUp(e2.engine, world().runId).catch((e) => log(`clean-up of the second engine failed: ${(e as Error).message}`));
    await sshd?.stop();
    await e2?.stop();
  });

  it('creates, validates, runs and removes a session on the TCP+TLS engine', async () => {
    const flow = makeFlow(HELLO_FLOW);
    const m = track(managerOn(new DockerEngine(resolveEndpoint({ env: e2.env }))));
    assert.strictEqual(m.engine.endpoint.source, 'DOCKER_HOST');
    assert.strictEqual((m.engine.endpoint.options as { protocol?: string }).protocol, 'https');
    const up = await m.up(flow);
    assert.strictEqual(up.state, 'ready');
    assert.strictEqual(up.engine, e2.tcpHost);
    // the session lives on the second engine, not the first
    assert.ok(await e2.engine.inspectContainer(up.container!));
    assert.strictEqual(await testEngine().inspectContainer(up.container!), undefined);
    const report = await new FlowValidator(m).validate(flow, { session: 'start' });
    assert.deepStrictEqual(
      report.problems.filter((p) => p.severity === 'error'),
      [],
    );
    assert.ok(report.sessionChecked);
    const run = await new RunService(m).run(flow, { inputs: { name: 'remote' } });
    assert.strictEqual(run.status, 'Completed');
    assert.deepStrictEqual(run.outputs, { greeting: 'Hello, remote' });
    const gone = await m.remove(flow);
    assert.strictEqual(gone.state, 'not-created');
    assert.strictEqual(await e2.engine.inspectContainer(up.container!), undefined);
  });

  it('creates, validates, runs and removes a session over ssh (key from ~/.ssh, no agent)', async () => {
    const flow = makeFlow(HELLO_FLOW);
    const endpoint = resolveEndpoint({ dockerHost: sshd.host, env: {}, homeDir: sshd.goodHome });
    assert.ok(
      (endpoint.options as { sshOptions?: { privateKey?: Buffer } }).sshOptions?.privateKey,
      'the default identity file is offered',
    );
    const m = track(managerOn(new DockerEngine(endpoint)));
    const info = await m.engine.ping(20_000);
    assert.ok(info.apiVersion);
    const up = await m.up(flow);
    assert.strictEqual(up.state, 'ready');
    assert.strictEqual(up.engine, sshd.host);
    assert.ok(await e2.engine.inspectContainer(up.container!), 'the ssh engine is the second engine');
    const report = await new FlowValidator(m).validate(flow, { session: 'start' });
    assert.ok(report.sessionChecked);
    assert.deepStrictEqual(
      report.problems.filter((p) => p.severity === 'error'),
      [],
    );
    const run = await new RunService(m).run(flow, { inputs: { name: 'ssh' } });
    assert.deepStrictEqual(run.outputs, { greeting: 'Hello, ssh' });
    await m.remove(flow);
    assert.strictEqual(await e2.engine.inspectContainer(up.container!), undefined);
  });

  it('debugs a run on the ssh engine: the debugger traffic goes through the engine connection, no port published', async () => {
    const flow = makeFlow(DEBUG_FLOW);
    const m = track(managerOn(new DockerEngine(resolveEndpoint({ dockerHost: sshd.host, env: {}, homeDir: sshd.goodHome }))));
    const up = await m.up(flow);
    const config: FlowDebugConfiguration = { type: 'flowsession', request: 'launch', name: 'remote', flow, inputs: { value: 7 } };
    const run = startDebugRun(new RunService(m), m, config);
    const client = new DapTestClient(await run.bridge(config));
    await client.request('initialize', { adapterID: 'flowsession', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    const launched = client.send('launch', { ...config });
    await client.event('initialized', 60_000);
    await client.request('setBreakpoints', { source: { path: path.join(flow, 'triple.py') }, breakpoints: [{ line: 6 }] });
    await client.request('configurationDone');
    await launched;
    const stopped = await client.event('stopped', 60_000, (e) => e.body?.reason === 'breakpoint');
    const threadId = stopped.body!.threadId as number;
    const frames = (await client.request('stackTrace', { threadId })).body!.stackFrames as {
      id: number;
      line: number;
      source: { path: string };
    }[];
    assert.deepStrictEqual([frames[0].source.path, frames[0].line], [path.join(flow, 'triple.py'), 6]);
    const scopes = (await client.request('scopes', { frameId: frames[0].id })).body!.scopes as { variablesReference: number }[];
    const vars = (await client.request('variables', { variablesReference: scopes[0].variablesReference })).body!.variables as {
      name: string;
      value: string;
    }[];
    assert.strictEqual(vars.find((v) => v.name === 'value')?.value, '7');
    // nothing of the session is published on the engine's host
    const ports = await new Docker(e2.engine.endpoint.options).getContainer(up.container!).inspect();
    assert.deepStrictEqual(ports.HostConfig.PortBindings ?? {}, {});
    await client.request('continue', { threadId });
    const record = await run.record;
    assert.deepStrictEqual([record.status, record.outputs], ['Completed', { tripled: 21 }]);
    await m.remove(flow);
  });

  it('says what is wrong: wrong CA, refused client certificate, plain HTTP to TLS, closed port, wrong ssh key, unknown ssh host key', async () => {
    const ping = (env: Record<string, string>, homeDir?: string, dockerHost?: string) =>
      new DockerEngine(resolveEndpoint({ env, homeDir, dockerHost })).ping(10_000);
    const wrongCa = await expectFailure(ping({ ...e2.env, DOCKER_CERT_PATH: e2.tls.wrongCaDir }));
    assert.match(wrongCa.message, /TLS verification/);
    assert.match(wrongCa.remedy, /ca\.pem/);
    assert.strictEqual(wrongCa.detail, 'tls-server');
    const stranger = await expectFailure(ping({ ...e2.env, DOCKER_CERT_PATH: e2.tls.strangerDir }));
    assert.match(stranger.message, /TLS verification|client certificate/);
    assert.match(stranger.remedy, /cert\.pem|CA/);
    const plain = await expectFailure(ping({ DOCKER_HOST: e2.tcpHost }, '/nonexistent'));
    assert.match(plain.describe(), /requires TLS|DOCKER_TLS_VERIFY/);
    const closedPort = (await import('../support/world/machine')).freePort;
    const port = await closedPort();
    const closed = await expectFailure(ping({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }, '/nonexistent'));
    assert.strictEqual(closed.kind, 'engine-not-running');
    assert.match(closed.message, /not reachable \(ECONNREFUSED\)/);
    assert.strictEqual(closed.detail, 'unreachable');
    const wrongKey = await expectFailure(ping({}, sshd.wrongHome, sshd.host));
    assert.strictEqual(wrongKey.kind, 'engine-permission-denied');
    assert.match(wrongKey.message, /ssh authentication/);
    assert.match(wrongKey.remedy, /ssh-add/);
    const unknownHost = await expectFailure(ping({}, sshd.unknownHostHome, sshd.host));
    assert.strictEqual(unknownHost.detail, 'ssh-host-key', 'a host key that known_hosts does not list is refused');
    assert.match(unknownHost.remedy, /known_hosts/);
    const sshClosed = await expectFailure(ping({}, sshd.goodHome, `ssh://root@127.0.0.1:${port}`));
    assert.strictEqual(sshClosed.kind, 'engine-not-running');
    assert.match(sshClosed.remedy, /sshd/);
  });

  it('splits a batch over two engines: the same output as on one, aggregation once over all lines', async () => {
    const flow = makeFlow(SLOW_FLOW(20));
    const data = writeData(flow, 60);
    const one = track(managerOn(testEngine()));
    const single = await new RunService(one).batch(flow, { dataFile: data, workers: 3 });
    assert.strictEqual(single.status, 'Completed');
    const engines: BatchEngine[] = [
      { name: 'local', manager: one },
      { name: 'tcp', manager: track(managerOn(new DockerEngine(resolveEndpoint({ env: e2.env })))) },
    ];
    // the same flow whose first share's lines wait until a line of the second share (30…59) has started: an engine
    // whose session starts slowly (a runtime image to build) still gets its share
    const gate = await startLineGate((p) => Number(p.split('/').pop()) >= 30);
    const gated = makeFlow(SLOW_FLOW(20, gate.url));
    const seen = new Map<number, string>();
    const multi = await runMultiEngineBatch(gated, engines, {
      dataFile: writeData(gated, 60),
      workers: 3,
      minChunkLines: 4,
      onLine: (e, engine) => {
        assert.ok(!seen.has(e.index), `line ${e.index} reported twice`);
        seen.set(e.index, engine);
      },
    }).finally(() => gate.close());
    assert.ok(gate.opened, 'a line of the second share started while the first share waited');
    assert.strictEqual(multi.status, 'Completed', JSON.stringify(multi.error));
    assert.strictEqual(multi.total, 60);
    assert.strictEqual(multi.failed, 0);
    assert.strictEqual(seen.size, 60);
    assert.ok(
      multi.engines.every((s) => s.lines > 0),
      `both engines ran lines: ${JSON.stringify(multi.engines)}`,
    );
    assert.deepStrictEqual(outputRows(multi.outputFile), outputRows(single.outputFile));
    assert.deepStrictEqual(multi.aggregation?.outputs, single.aggregation?.outputs);
    assert.deepStrictEqual(multi.aggregation?.outputs, { total: { sum: (2 * (59 * 60)) / 2, count: 60 } });
    assert.strictEqual(multi.requeued, 0);
  });

  it('runs the same from the CLI: flowsession batch --engines default,tcp://…', async () => {
    const flow = makeFlow(SLOW_FLOW(5));
    const data = writeData(flow, 40);
    const r = await runCli(['batch', flow, '--data', data, '--engines', `default,${e2.tcpHost}`, '--workers', '2', '--json'], {
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: e2.tls.clientDir,
    });
    assert.strictEqual(r.code, 0, r.stderr);
    const doc = json<{ total: number; failed: number; output: string; engines: { name: string; lines: number }[]; aggregation: unknown }>(
      r,
    );
    assert.strictEqual(doc.total, 40);
    assert.strictEqual(doc.failed, 0);
    assert.deepStrictEqual(
      doc.engines.map((e) => e.name),
      ['default', e2.tcpHost],
    );
    assert.strictEqual(
      doc.engines.reduce((n, e) => n + e.lines, 0),
      40,
    );
    assert.deepStrictEqual(
      outputRows(doc.output).map((l) => l.line_number),
      Array.from({ length: 40 }, (_v, i) => i),
    );
    assert.deepStrictEqual(doc.aggregation, { total: { sum: (2 * (39 * 40)) / 2, count: 40 } });
    const usage = await runCli(['batch', flow, '--data', data, '--engines', ' , ']);
    assert.strictEqual(usage.code, 2);
  });

  async function failover(kill: (m: SessionManager, flow: string) => Promise<void>) {
    const flow = makeFlow(SLOW_FLOW(100));
    const data = writeData(flow, 120);
    const remote = track(managerOn(new DockerEngine(resolveEndpoint({ env: e2.env }))));
    const engines: BatchEngine[] = [
      { name: 'local', manager: track(managerOn(testEngine())) },
      { name: 'tcp', manager: remote },
    ];
    let remoteLines = 0;
    let killed: Promise<void> | undefined;
    const counts = new Map<number, number>();
    const record = await runMultiEngineBatch(flow, engines, {
      dataFile: data,
      workers: 3,
      minChunkLines: 6,
      stallMs: 5000,
      onLine: (e, engine) => {
        counts.set(e.index, (counts.get(e.index) ?? 0) + 1);
        if (engine === 'tcp' && ++remoteLines === 5) killed = kill(remote, flow);
      },
    });
    await killed;
    assert.ok(killed, 'the remote engine ran lines before it was stopped');
    assert.strictEqual(record.status, 'Completed', JSON.stringify(record.error));
    assert.strictEqual(record.total, 120);
    assert.strictEqual(record.completed, 120);
    assert.strictEqual(record.failed, 0);
    assert.ok([...counts.values()].every((n) => n === 1) && counts.size === 120, 'every line reported exactly once');
    const [local, tcp] = record.engines;
    assert.ok(tcp.error, 'the stopped engine left the batch');
    assert.ok(tcp.requeued > 0, `its unfinished lines were handed over: ${JSON.stringify(record.engines)}`);
    assert.strictEqual(local.lines + tcp.lines, 120);
    const out = outputRows(record.outputFile);
    assert.deepStrictEqual(
      out.map((l) => l.line_number),
      Array.from({ length: 120 }, (_v, i) => i),
    );
    assert.ok(out.every((l) => l.y === 2 * (l.line_number as number)));
    assert.deepStrictEqual(record.aggregation?.outputs, { total: { sum: (2 * (119 * 120)) / 2, count: 120 } });
    return record;
  }

  it('finishes on the other engine the lines of a session container stopped mid-batch, each counted once', async () => {
    await failover(async (m, flow) => {
      const s = await m.status(flow);
      await m.engine.killContainer(s.container!);
    });
  });

  it('finishes on the other engine the lines of an engine killed mid-batch (dockerd SIGKILL)', async () => {
    const record = await failover(() => e2.kill());
    assert.match(record.engines[1].error ?? '', /runtime|engine|reach/i);
    await e2.restart();
  });
});
