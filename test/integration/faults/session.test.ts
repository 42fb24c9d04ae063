/**
 * Faults around a running session on the main engine: the container killed or removed from outside, the
 * runtime killed, frozen, looping or flooding, two processes on one session, a burst of saves, a crash in
 * the middle of writing results, a registry that answers with errors.
 */
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { IMAGE_PATHS, SESSION_USER } from '../../../src/core/image/runtimeFiles';
import { RunService } from '../../../src/core/runs/runService';
import type { SessionManager } from '../../../src/core/session/sessionManager';
import { FlowValidator } from '../../../src/core/validation/flowValidator';
import { ValidationScheduler } from '../../../src/ui/diagnostics/validationScheduler';
import { json, runCli } from '../../support/cli';
import { assertClear, checkResults, fault, guardedFlowJar, rejectsWithin } from '../../support/faults/tally';
import { HELLO_FLOW, SLEEPY_FLOW, toolFlow } from '../../support/flows/fixtures';
import { sleep, waitUntil, within } from '../../support/waiting';
import { testManager } from '../../support/world/manager';
import { settingsFromEnv } from '../../../src/cli/settingsFromEnv';
import { SessionManager as Manager } from '../../../src/core/session/sessionManager';
import { testEngine, world } from '../../support/world/world';

const GONE = ['runtime-crashed', 'session-not-found', 'session-not-running', 'engine-error'];

/** Sends a signal to the session's runtime process (not its forked children), from inside the container. */
async function signalRuntime(manager: SessionManager, dir: string, signal: string): Promise<number[]> {
  const s = await manager.status(dir);
  const script = `import os, signal, sys
procs = {}
for p in os.listdir('/proc'):
    if not p.isdigit() or int(p) == os.getpid():
        continue
    try:
        cmd = open('/proc/%s/cmdline' % p, 'rb').read()
        ppid = int(open('/proc/%s/stat' % p).read().rsplit(')', 1)[1].split()[1])
    except OSError:
        continue
    if b'flowsession_runtime' in cmd and b'--flow-dir' in cmd:
        procs[int(p)] = ppid
roots = [p for p, pp in procs.items() if pp not in procs]
for p in roots:
    os.kill(p, getattr(signal, sys.argv[1]))
print(roots)`;
  const r = await manager.engine.exec(s.container!, [IMAGE_PATHS.python, '-c', script, signal], { user: SESSION_USER });
  assert.strictEqual(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout) as number[];
}

describe('faults: a session under attack from outside and from its own tools', function () {
  this.timeout(180_000);
  let manager: SessionManager;
  let runs: RunService;
  const jar = guardedFlowJar();

  before(() => {
    manager = testManager();
    runs = new RunService(manager);
  });

  after(async () => {
    await jar.dispose([manager]);
    manager.dispose();
  });

  const startRun = (dir: string, n: number) => {
    let started!: () => void;
    const nodeStarted = new Promise<void>((r) => (started = r));
    const run = runs.run(dir, { inputs: { n }, onEvent: (e) => e.event === 'nodeStart' && started() });
    run.catch(() => undefined);
    return { run, nodeStarted: within('the node to start', 60_000, nodeStarted) };
  };

  it('the container is killed from outside during a run', async () => {
    await fault('container killed during a run', async () => {
      const dir = jar.make(SLEEPY_FLOW);
      const { run, nodeStarted } = startRun(dir, 60);
      await nodeStarted;
      await testEngine().killContainer((await manager.status(dir)).container!);
      assertClear(await rejectsWithin(run, 15_000, 'the run'), GONE, /runtime|session/i);
      await waitUntil('the session to show stopped', 10_000, async () => (await manager.status(dir)).state === 'stopped');
      assert.strictEqual((await runs.run(dir, { inputs: { n: 0 } })).status, 'Completed', 'the next run starts it again (one action)');
    });
  });

  it('the container is removed from outside during a run', async () => {
    await fault('container removed during a run', async () => {
      const dir = jar.make(SLEEPY_FLOW);
      const { run, nodeStarted } = startRun(dir, 60);
      await nodeStarted;
      await testEngine().removeContainer((await manager.status(dir)).container!);
      assertClear(await rejectsWithin(run, 15_000, 'the run'), GONE, /runtime|session/i);
      assert.strictEqual((await manager.status(dir)).state, 'not-created');
      assert.strictEqual((await runs.run(dir, { inputs: { n: 0 } })).status, 'Completed', 'the next run creates it again (one action)');
      assert.deepStrictEqual(checkResults(dir), []);
    });
  });

  it('the container is removed from outside during an install', async () => {
    // a package index that never answers keeps pip busy until the container goes away
    const held: http.ServerResponse[] = [];
    const server = http.createServer((_req, res) => held.push(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const slow = testManager({ FLOWSESSION_PIP_FIND_LINKS: url });
    try {
      await fault('container removed during an install', async () => {
        const dir = jar.make(HELLO_FLOW);
        await slow.up(dir);
        const install = slow.install(dir, ['fs-greeting']);
        install.catch(() => undefined);
        await waitUntil('pip to ask the index', 20_000, () => held.length > 0);
        await testEngine().removeContainer((await slow.status(dir)).container!);
        const e = await rejectsWithin(install, 20_000, 'the install');
        assertClear(e, [...GONE, 'requirements-failed'], /session|container|removed|stopped/i);
        assert.strictEqual((await slow.status(dir)).state, 'not-created', 'no operation is left hanging over the session');
      });
    } finally {
      for (const r of held) r.destroy();
      server.close();
      slow.dispose();
    }
  });

  it('the runtime process dies during a run: the run fails, the runtime comes back by itself', async () => {
    await fault('runtime process killed', async () => {
      const dir = jar.make(SLEEPY_FLOW);
      const { run, nodeStarted } = startRun(dir, 60);
      await nodeStarted;
      assert.strictEqual((await signalRuntime(manager, dir, 'SIGKILL')).length, 1);
      assertClear(await rejectsWithin(run, 15_000, 'the run'), ['runtime-crashed']);
      assert.strictEqual((await runs.run(dir, { inputs: { n: 0 } })).status, 'Completed');
      assert.strictEqual((await manager.status(dir)).state, 'ready');
    });
  });

  it('the runtime process freezes: a request gives up in bounded time; one restart recovers', async () => {
    await fault('runtime process frozen (SIGSTOP)', async () => {
      const dir = jar.make(SLEEPY_FLOW);
      await manager.up(dir);
      await signalRuntime(manager, dir, 'SIGSTOP');
      const r = await within('a run against a frozen runtime', 30_000, runs.run(dir, { inputs: { n: 0 }, timeoutSeconds: 2 }));
      assert.strictEqual(r.status, 'Failed');
      assert.strictEqual(r.error?.code, 'RunTimeout');
      assert.match(r.error?.message ?? '', /did not answer/);
      await manager.restart(dir);
      assert.strictEqual((await runs.run(dir, { inputs: { n: 0 } })).status, 'Completed');
    });
  });

  it('a tool loops forever: the run times out, the session stays usable', async () => {
    await fault('tool in an infinite loop', async () => {
      const dir = jar.make(toolFlow('while True:\n    pass'));
      const t = Date.now();
      const r = await within('the looping run', 30_000, runs.run(dir, { timeoutSeconds: 2 }));
      assert.strictEqual(r.status, 'Failed');
      assert.strictEqual(r.error?.code, 'RunTimeout');
      assert.ok(Date.now() - t < 25_000);
      const ok = jar.make(HELLO_FLOW);
      assert.strictEqual((await runs.run(ok)).status, 'Completed');
      assert.strictEqual(
        (await runs.run(dir, { timeoutSeconds: 1 })).error?.code,
        'RunTimeout',
        'the same session runs (and times out) again',
      );
    });
  });

  it('a tool floods 100 MB of stdout and 100 MB of raw stderr: caps hold, extension memory stays bounded', async () => {
    await fault(
      '100 MB of output',
      async () => {
        let logged = 0;
        const m = new Manager({
          engine: testEngine(),
          settings: settingsFromEnv({ ...process.env, ...world().env }, {}),
          baseImageOverride: world().baseImage,
          log: (l) => (logged += l.length),
        });
        const r2 = new RunService(m);
        try {
          const dir = jar.make(
            toolFlow(`import os, sys
line = "x" * (1024 * 1024 - 1) + "\\n"
for _ in range(100):
    sys.stdout.write(line)
raw = line.encode()
for _ in range(100):
    os.write(2, raw)
return "done"`),
          );
          await m.up(dir);
          global.gc?.();
          const rss0 = process.memoryUsage().rss;
          let eventBytes = 0;
          let peak = rss0;
          const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
          let r;
          try {
            r = await within('the flooding run', 120_000, r2.run(dir, { onEvent: (e) => (eventBytes += JSON.stringify(e).length) }));
          } finally {
            clearInterval(timer);
          }
          assert.strictEqual(r.status, 'Completed');
          const growthMb = (peak - rss0) / 2 ** 20;
          assert.ok(eventBytes < 8 * 2 ** 20, `events carried ${eventBytes} bytes`);
          assert.ok(logged < 2 * 2 ** 20, `the log received ${logged} bytes of raw runtime output`);
          assert.ok(growthMb < 200, `extension RSS grew ${growthMb.toFixed(0)} MB`);
          const log = fs.readFileSync(path.join(dir, '.promptflow', 'flow.log'), 'utf8');
          assert.ok(log.length < 16 * 2 ** 20 && /truncated/.test(log), `flow.log is capped (${log.length} chars)`);
          assert.strictEqual((await r2.run(dir, { timeoutSeconds: 1 })).status !== undefined, true, 'still usable');
        } finally {
          m.dispose();
        }
      },
      180_000,
    );
  });

  it('two processes act on one session at once (this one and the CLI)', async () => {
    await fault('two processes on one session', async () => {
      const dir = jar.make(SLEEPY_FLOW);
      // both start it at once: one container, both ready
      const [cli, mine] = await Promise.all([runCli(['session', 'up', dir, '--json']), manager.up(dir)]);
      assert.strictEqual(cli.code, 0, cli.stderr);
      assert.strictEqual(json<{ container: string }>(cli).container, mine.container);
      assert.strictEqual((await manager.list()).filter((s) => s.key === mine.key).length, 1);
      // both run at once
      const [cliRun, myRun] = await Promise.all([runCli(['run', dir, '--inputs', 'n=1', '--json']), runs.run(dir, { inputs: { n: 1 } })]);
      assert.strictEqual(cliRun.code, 0, cliRun.stderr);
      assert.strictEqual(json<{ status: string }>(cliRun).status, 'Completed');
      assert.strictEqual(myRun.status, 'Completed');
      assert.deepStrictEqual(checkResults(dir), []);
      // the other process deletes it under this one: the next run here brings it back
      const rm = await runCli(['session', 'rm', dir, '--json']);
      assert.strictEqual(rm.code, 0, rm.stderr);
      await waitUntil('this process to see it gone', 10_000, async () => (await manager.status(dir)).state === 'not-created');
      assert.strictEqual((await runs.run(dir, { inputs: { n: 0 } })).status, 'Completed');
    });
  });

  it('50 saves in two seconds: validations coalesce, the last save wins, nothing piles up', async () => {
    await fault('50 saves in two seconds', async () => {
      const dir = jar.make(SLEEPY_FLOW);
      const validator = new FlowValidator(manager);
      await manager.up(dir);
      const good = SLEEPY_FLOW['work.py'];
      let ran = 0;
      let last: { generation: number; problems: string[] } | undefined;
      let inflight = 0;
      let maxInflight = 0;
      const scheduler = new ValidationScheduler(async (job) => {
        ran++;
        maxInflight = Math.max(maxInflight, ++inflight);
        const report = await validator.validate(job.flowDir, { session: 'if-running', changedFiles: job.changedFiles });
        inflight--;
        if (!last || job.generation > last.generation)
          last = { generation: job.generation, problems: report.problems.map((p) => `${p.file}:${p.code}`) };
      });
      const file = path.join(dir, 'work.py');
      const t = Date.now();
      let gen = 0;
      try {
        for (let i = 0; i < 50; i++) {
          fs.writeFileSync(file, i === 49 ? `${good}\ndef broken(:\n` : i % 2 ? `${good}\n# ${i}\n` : good);
          gen = scheduler.saved(dir, 'work.py');
          await sleep(40);
        }
        assert.ok(Date.now() - t < 4000);
        await within('the validations to settle', 20_000, scheduler.idle(dir));
      } finally {
        scheduler.dispose();
        fs.writeFileSync(file, good); // the user's file as it was guarded
      }
      assert.ok(ran >= 1 && ran <= 50, `${ran} validations for 50 saves`);
      assert.strictEqual(maxInflight, 1, 'one validation at a time per flow');
      assert.strictEqual(last?.generation, gen, 'the newest save was validated');
      assert.ok(
        last.problems.some((p) => p.startsWith('work.py:')),
        `the last save's syntax error is reported: ${last.problems.join(', ')}`,
      );
    });
  });

  it('a crash while results are written never leaves a truncated flow.output.json or output.jsonl', async () => {
    await fault('crash in the middle of writing results', async () => {
      const dir = jar.make(HELLO_FLOW);
      const out = path.join(dir, '.promptflow');
      const script = `
const { writeFileAtomic } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/core/fs/atomicWrite'))});
const { OrderedLineWriter } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/core/runs/orderedLineWriter'))});
const big = JSON.stringify({ text: 'y'.repeat(8 * 1024 * 1024) });
(async () => {
  process.stdout.write('ready\\n');
  for (let i = 0; ; i++) {
    await writeFileAtomic(${JSON.stringify(path.join(out, 'flow.output.json'))}, big);
    const w = new OrderedLineWriter(${JSON.stringify(path.join(out, 'runs', 'b', 'output.jsonl'))});
    for (let j = 9999; j >= 0; j--) w.add(j, JSON.stringify({ line_number: j, text: 'z'.repeat(200) }));
    await w.finish();
  }
})();`;
      for (let round = 0; round < 6; round++) {
        const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        await within('the writer to start', 30_000, new Promise<void>((r) => child.stdout.once('data', () => r())));
        await sleep(150 + round * 170);
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        assert.deepStrictEqual(checkResults(dir), [], `after a kill in round ${round}`);
        const jsonl = path.join(out, 'runs', 'b', 'output.jsonl');
        if (fs.existsSync(jsonl)) assert.strictEqual(fs.readFileSync(jsonl, 'utf8').split('\n').filter(Boolean).length, 10_000);
      }
    });
  });

  it('a registry that answers with errors: the start fails with a clear pull error, nothing is left', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNKNOWN","message":"registry on fire"}]}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const ref = `127.0.0.1:${(server.address() as AddressInfo).port}/flowsession-test/broken:1`;
    const m = testManager({ FLOWSESSION_BASE_IMAGE: ref });
    try {
      await fault('registry returns errors', async () => {
        const dir = jar.make(HELLO_FLOW);
        const e = await rejectsWithin(m.up(dir), 60_000, 'a start whose base image cannot be pulled');
        assertClear(e, ['pull-failed', 'image-not-found']);
        assert.match(e.message, /127\.0\.0\.1/);
        const s = await m.status(dir);
        assert.strictEqual(s.state, 'failed');
        assert.ok(s.reason);
        assert.strictEqual((await testEngine().listContainers({ 'flowsession.session': s.key })).length, 0);
      });
    } finally {
      m.dispose();
      server.close();
    }
  });
});
