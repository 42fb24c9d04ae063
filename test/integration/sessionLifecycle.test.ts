import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { json, runCli } from '../support/cli';
import { HELLO_FLOW } from '../support/flows/fixtures';
import { FlowJar } from '../support/flows/flowJar';
import { waitUntil } from '../support/waiting';
import { testManager } from '../support/world/manager';
import { testEngine, world } from '../support/world/world';
import { Methods } from '../../src/core/runtime/protocol';
import { SESSION_LABELS } from '../../src/core/session/labels';
import type { SessionChange } from '../../src/core/session/sessionManager';

interface StatusDoc {
  state: string;
  container: string | null;
  image: string | null;
  env: string | null;
  outdated: boolean;
  baseImage: string | null;
}

describe('session lifecycle against the real engine', function () {
  const jar = new FlowJar();
  const flow = jar.make(HELLO_FLOW);

  after(async () => {
    await runCli(['session', 'rm', flow]);
    await jar.dispose([]);
  });

  it('goes up, reports its state, stops, starts, restarts and is removed (CLI)', async () => {
    const up = await runCli(['session', 'up', flow, '--json']);
    assert.strictEqual(up.code, 0, up.stderr);
    const upDoc = json<StatusDoc>(up);
    assert.strictEqual(upDoc.state, 'ready');
    assert.match(upDoc.container ?? '', /^[0-9a-f]{64}$/);
    assert.ok(upDoc.image, 'the image is reported');
    assert.match(upDoc.env ?? '', /^[0-9a-f]{16}$/);
    assert.strictEqual(upDoc.baseImage, world().baseImage);
    assert.match(up.stderr, /Starting the session/, 'progress goes to stderr');

    const status = json<StatusDoc>(await runCli(['session', 'status', flow, '--json']));
    assert.strictEqual(status.state, 'ready');
    assert.strictEqual(status.container, upDoc.container);

    const stopped = await runCli(['session', 'stop', flow, '--json']);
    assert.strictEqual(stopped.code, 0, stopped.stderr);
    assert.strictEqual(json<StatusDoc>(stopped).state, 'stopped');

    const started = await runCli(['session', 'start', flow, '--json']);
    assert.strictEqual(started.code, 0, started.stderr);
    assert.strictEqual(json<StatusDoc>(started).state, 'ready');
    assert.strictEqual(json<StatusDoc>(started).container, upDoc.container, 'start reuses the container');

    const restarted = await runCli(['session', 'restart', flow, '--json']);
    assert.strictEqual(restarted.code, 0, restarted.stderr);
    assert.strictEqual(json<StatusDoc>(restarted).state, 'ready');

    const removed = await runCli(['session', 'rm', flow, '--json']);
    assert.strictEqual(removed.code, 0, removed.stderr);
    assert.strictEqual(json<StatusDoc>(removed).state, 'not-created');
    assert.strictEqual(await testEngine().inspectContainer(upDoc.container!), undefined, 'the container is gone');
  });

  it('is found again by a fresh manager (another process or a reload)', async () => {
    const first = testManager();
    const up = await first.up(flow);
    first.dispose();
    const second = testManager();
    try {
      const found = await second.status(flow);
      assert.strictEqual(found.state, 'ready');
      assert.strictEqual(found.container, up.container);
      const listed = await second.list();
      assert.ok(
        listed.some((s) => s.container === up.container && s.flowDir === flow),
        'list() finds it by label',
      );
      const rt = await second.runtime(flow);
      assert.deepStrictEqual(await rt.request(Methods.ping, {}), { pong: true });
      const version = await rt.request(Methods.version, {});
      assert.match(version.python, /^3\.\d+/);
    } finally {
      second.dispose();
    }
  });

  it('gives the statuses of many flows from one list call, as status() gives them one by one', async () => {
    const manager = testManager();
    const stopped = jar.make(HELLO_FLOW);
    const never = jar.make(HELLO_FLOW);
    const broken = jar.make({ 'flow.dag.yaml': 'nodes: [\n' });
    try {
      await manager.up(flow);
      await manager.up(stopped);
      await manager.stop(stopped);
      const many = await manager.statusesOf([flow, stopped, never, broken]);
      assert.deepStrictEqual(
        many.map((x) => x.state),
        ['ready', 'stopped', 'not-created', 'failed'],
      );
      for (const [i, f] of [flow, stopped, never].entries()) {
        const one = await manager.status(f);
        assert.strictEqual(many[i].state, one.state);
        assert.strictEqual(many[i].container, one.container);
        assert.strictEqual(many[i].outdated, one.outdated);
      }
      assert.match(many[3].reason ?? '', /malformed YAML/);
    } finally {
      await manager.remove(stopped);
      manager.dispose();
    }
  });

  it('copies the flow folder in, skipping results, caches and virtual environments', async () => {
    fs.mkdirSync(path.join(flow, '.promptflow'), { recursive: true });
    fs.writeFileSync(path.join(flow, '.promptflow', 'flow.output.json'), '{}');
    fs.mkdirSync(path.join(flow, '__pycache__'), { recursive: true });
    fs.writeFileSync(path.join(flow, '__pycache__', 'x.pyc'), 'x');
    fs.mkdirSync(path.join(flow, 'myenv', 'lib'), { recursive: true });
    fs.writeFileSync(path.join(flow, 'myenv', 'pyvenv.cfg'), 'home = /usr/bin');
    fs.mkdirSync(path.join(flow, 'data'), { recursive: true });
    fs.writeFileSync(path.join(flow, 'data', 'lines.jsonl'), '{"a": 1}\n');
    const manager = testManager();
    try {
      const s = await manager.reset(flow);
      const r = await manager.engine.exec(s.container!, [
        'python3',
        '-c',
        'import os\nfor d, ds, fs in os.walk("/flow"):\n    ds.sort()\n    for f in sorted(fs): print(os.path.relpath(os.path.join(d, f), "/flow"))',
      ]);
      const files = r.stdout.trim().split('\n').sort();
      assert.deepStrictEqual(files, ['data/lines.jsonl', 'flow.dag.yaml', 'hello.py']);
      const owner = await manager.engine.exec(s.container!, ['stat', '-c', '%u', '/flow/hello.py']);
      assert.strictEqual(owner.stdout.trim(), '10001');
    } finally {
      manager.dispose();
    }
  });

  it('runs with the security settings of a session container', async () => {
    const manager = testManager();
    try {
      const s = await manager.up(flow);
      const c = await manager.engine.inspectContainer(s.container!);
      assert.ok(c);
      assert.strictEqual(c.user, '10001:10001');
      assert.deepStrictEqual(c.hostConfig.capDrop, ['ALL']);
      assert.ok(c.hostConfig.securityOpt.includes('no-new-privileges'));
      assert.strictEqual(c.hostConfig.nanoCpus, 1e9);
      assert.strictEqual(c.hostConfig.memory, 1024 * 1024 * 1024);
      assert.strictEqual(c.hostConfig.init, true);
      assert.deepStrictEqual(c.hostConfig.binds, [], 'nothing of the host is mounted (no engine socket)');
      const inside = await manager.engine.exec(s.container!, [
        'python3',
        '-c',
        'import os\nst = open("/proc/self/status").read()\nprint(os.getuid(), [l.split()[1] for l in st.splitlines() if l.startswith(("CapEff", "NoNewPrivs"))], os.path.exists("/var/run/docker.sock"))',
      ]);
      assert.strictEqual(inside.stdout.trim(), "10001 ['0000000000000000', '1'] False");
      assert.strictEqual(c.labels[SESSION_LABELS.flow], flow);
      assert.strictEqual(c.labels['flowsession.test'], world().runId);
    } finally {
      manager.dispose();
    }
  });

  it('sees a container killed from outside as stopped, through engine events', async () => {
    const manager = testManager();
    try {
      const s = await manager.up(flow);
      const changes: SessionChange[] = [];
      const died = new Promise<void>((resolve) => {
        manager.onDidChange((c) => {
          changes.push(c);
          if (c.key === s.key && c.action === 'die') resolve();
        });
      });
      await new Promise((r) => setTimeout(r, 300)); // let the event stream connect
      await testEngine().killContainer(s.container!);
      await Promise.race([
        died,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no die event; saw ${JSON.stringify(changes)}`)), 15_000)),
      ]);
      assert.strictEqual((await manager.status(flow)).state, 'stopped');
    } finally {
      manager.dispose();
    }
  });

  it('restarts a runtime that died while its session runs', async () => {
    const manager = testManager();
    try {
      const s = await manager.up(flow);
      const rt = await manager.runtime(flow);
      await manager.engine.exec(s.container!, [
        'python3',
        '-c',
        'import os, signal\nfor p in os.listdir("/proc"):\n    if p.isdigit():\n        try:\n            cmd = open("/proc/%s/cmdline" % p).read()\n        except OSError:\n            continue\n        if "flowsession_runtime" in cmd and "keepalive" not in cmd:\n            os.kill(int(p), signal.SIGKILL)',
      ]);
      await rt.exited;
      const again = await waitUntil('a new runtime connection', 10_000, async () => {
        const now = await manager.runtime(flow);
        return now !== rt && now;
      });
      assert.notStrictEqual(again, rt, 'a new runtime connection');
      assert.deepStrictEqual(await again.request(Methods.ping, {}), { pong: true });
    } finally {
      manager.dispose();
    }
  });

  it('fails fast with exit code 3 when the engine is unreachable', async () => {
    const r = await runCli(['session', 'status', flow, '--json'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    assert.strictEqual(r.code, 3, r.stderr);
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.match(r.stderr, /not (running|installed)/);
    assert.strictEqual(json<{ error: { kind: string } }>(r).error.kind.startsWith('engine-'), true);
  });

  it('names the file on bad input, with exit code 1 and usage errors with 2', async () => {
    const missing = await runCli(['session', 'up', path.join(flow, 'nope')]);
    assert.strictEqual(missing.code, 1);
    assert.match(missing.stderr, /No such folder: .*nope/);
    const noDag = jar.make({ 'readme.txt': 'x' });
    const r = await runCli(['session', 'up', noDag]);
    assert.strictEqual(r.code, 1);
    assert.match(r.stderr, /No flow in .*\(no flow\.dag\.yaml, flow\.flex\.yaml or \.prompty file\)/);
    const bad = jar.make({ 'flow.dag.yaml': 'nodes: [\n  - name: a\n' });
    const r2 = await runCli(['session', 'up', bad]);
    assert.strictEqual(r2.code, 1);
    assert.match(r2.stderr, /flow\.dag\.yaml:\d+:\d+: malformed YAML/);
    const noReq = jar.make({ 'flow.dag.yaml': 'environment:\n  python_requirements_txt: reqs/missing.txt\nnodes: []\n' });
    const r3 = await runCli(['session', 'up', noReq]);
    assert.strictEqual(r3.code, 1);
    assert.match(r3.stderr, /Requirements file not found: .*reqs\/missing\.txt/);
    const usage = await runCli(['session', 'frobnicate', flow]);
    assert.strictEqual(usage.code, 2);
    const flag = await runCli(['session', 'up', flow, '--no-such-flag']);
    assert.strictEqual(flag.code, 2);
  });
});
