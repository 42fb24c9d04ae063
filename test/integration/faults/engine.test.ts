/**
 * The engine stops mid-create, mid-run and while idle, then comes back; its disk fills during an environment
 * image build. All against a dedicated dockerd (test/support/faults/faultEngine.ts), never the machine's main engine.
 */
import * as assert from 'assert';
import * as crypto from 'crypto';
import { Readable } from 'stream';
import { packEntries } from '../../../src/core/docker/archive';
import { startCuttingProxy } from '../../support/faults/cuttingProxy';
import * as fs from 'fs';
import * as path from 'path';
import { RunService } from '../../../src/core/runs/runService';
import type { SessionManager } from '../../../src/core/session/sessionManager';
import { IMAGE_LABELS } from '../../../src/core/image/labels';
import { assertClear, checkResults, fault, guardedFlowJar, rejectsWithin } from '../../support/faults/tally';
import { FaultsEngine } from '../../support/faults/faultEngine';
import { HELLO_FLOW, SLEEPY_FLOW } from '../../support/flows/fixtures';
import { waitUntil, within } from '../../support/waiting';
import { testEngine, world } from '../../support/world/world';

const UNREACHABLE = ['engine-not-running', 'engine-timeout', 'runtime-crashed'];

describe('faults: the engine goes away and comes back (dedicated engine)', function () {
  this.timeout(240_000);
  let fe: FaultsEngine;
  let manager: SessionManager;
  const actions: string[] = [];
  const jar = guardedFlowJar();

  before(async function () {
    const why = FaultsEngine.unavailable();
    // no skipping: a machine that cannot host the fault engine fails these tests with the reason
    if (why) throw new Error(`the engine fault tests need a dedicated engine: ${why}`);
    fe = await FaultsEngine.create((l) => process.stderr.write(`[faults] ${l}\n`));
    manager = fe.manager();
    manager.onDidChange((c) => actions.push(c.action));
    await manager.up(jar.make(HELLO_FLOW)); // builds the runtime image in this engine once
  });

  after(async () => {
    if (!fe) return;
    if (!fe.running) await fe.start().catch(() => undefined);
    await jar.dispose(manager ? [manager] : []);
    manager?.dispose();
    await fe.dispose();
  });

  it('while idle: unavailable while down (no hang), events reconnect, the session is found again and starts with one action', async () => {
    await fault('engine stops while idle', async () => {
      const dir = jar.make(HELLO_FLOW);
      const runs = new RunService(manager);
      await manager.up(dir);
      await waitUntil('the event stream to connect', 10_000, () => actions.includes('engine-connected'));
      const mark = actions.length;
      await fe.stop('SIGTERM');
      const down = await within('status while the engine is down', 10_000, manager.status(dir));
      assert.strictEqual(down.state, 'unavailable');
      assert.match(down.reason ?? '', /not running|not reachable|Start Docker/);
      assertClear(await rejectsWithin(manager.list(), 10_000, 'list while down'), ['engine-not-running']);
      assertClear(await rejectsWithin(runs.run(dir), 20_000, 'a run while down'), UNREACHABLE);
      await waitUntil('the event stream to report the engine gone', 15_000, () => actions.slice(mark).includes('engine-disconnected'));
      await fe.start();
      await waitUntil(
        'the event stream to reconnect',
        20_000,
        () => actions.slice(mark).lastIndexOf('engine-connected') > actions.slice(mark).indexOf('engine-disconnected'),
      );
      const back = await manager.status(dir);
      assert.strictEqual(back.state, 'stopped', 'the engine stopped its containers; the session is found again, stopped');
      assert.ok(
        (await manager.list()).some((s) => s.key === back.key),
        'found again by label',
      );
      assert.strictEqual((await manager.up(dir)).state, 'ready', 'one action brings it back');
      assert.strictEqual((await runs.run(dir)).status, 'Completed');
    });
  });

  it('mid-run: the run fails at once with a clear error, no truncated results, one action recovers', async () => {
    await fault('engine dies mid-run', async () => {
      const dir = jar.make(SLEEPY_FLOW);
      const runs = new RunService(manager);
      await manager.up(dir);
      let started!: () => void;
      const nodeStarted = new Promise<void>((r) => (started = r));
      const run = runs.run(dir, { inputs: { n: 60 }, onEvent: (e) => e.event === 'nodeStart' && started() });
      run.catch(() => undefined);
      await within('the node to start', 30_000, nodeStarted);
      await fe.stop('SIGKILL');
      const e = await rejectsWithin(run, 20_000, 'the run after the engine died');
      assertClear(e, UNREACHABLE);
      assert.deepStrictEqual(checkResults(dir), []);
      await fe.start();
      const s = await manager.status(dir);
      assert.ok(['stopped', 'ready'].includes(s.state), `state after the engine came back: ${s.state}`);
      await manager.up(dir);
      const r = await runs.run(dir, { inputs: { n: 0 } });
      assert.strictEqual(r.status, 'Completed');
    });
  });

  it('mid-create: the start fails with a clear error and leaves nothing behind; one start afterwards works', async () => {
    await fault('engine dies mid-create', async () => {
      const dir = jar.make({ ...HELLO_FLOW, 'requirements.txt': `fs-greeting==1.0.0\n# ${world().runId} mid-create\n` });
      let killed = false;
      const up = manager.up(dir, (r) => {
        if (!killed && r.phase === 'installing') {
          killed = true;
          void fe.stop('SIGKILL');
        }
      });
      const e = await rejectsWithin(up, 60_000, 'a start while the engine dies');
      assert.ok(killed, `the engine was killed during the install (${e.message})`);
      assertClear(e, [...UNREACHABLE, 'engine-error', 'requirements-failed']);
      await waitUntil('the engine to be gone', 20_000, () => !fe.running);
      await fe.start();
      const s = await manager.status(dir);
      assert.ok(['failed', 'not-created'].includes(s.state), `after the engine came back: ${s.state}`);
      const r = await manager.up(dir);
      assert.strictEqual(r.state, 'ready');
      const builders = (await fe.engine.listContainers({ [IMAGE_LABELS.kind]: 'builder' })).filter(
        (c) => c.labels['flowsession.test'] === world().runId,
      );
      assert.deepStrictEqual(
        builders.map((c) => c.name),
        [],
        'no image build container is left behind',
      );
    });
  });

  it("the disk fills during an environment image build: a clear error with pip's message, nothing left, a retry after freeing space works", async () => {
    await fault(
      'disk full during an environment build',
      async () => {
        // a wheel that unpacks to 200 MB of zeros (compressed it is tiny), served on loopback
        const house = fs.mkdtempSync(path.join(world().runDir, 'bigwheel-'));
        const { spawnSync } = await import('child_process');
        const made = spawnSync(
          'python3',
          [
            '-c',
            `
import sys, zipfile, hashlib, base64
d = sys.argv[1]
name = 'fs_bigdata-1.0.0-py3-none-any.whl'
files = {'fs_bigdata/__init__.py': b'X = 1\\n', 'fs_bigdata/blob.bin': bytes(200 * 1024 * 1024),
         'fs_bigdata-1.0.0.dist-info/METADATA': b'Metadata-Version: 2.1\\nName: fs-bigdata\\nVersion: 1.0.0\\n',
         'fs_bigdata-1.0.0.dist-info/WHEEL': b'Wheel-Version: 1.0\\nGenerator: faults\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'}
rec = ''.join('%s,sha256=%s,%d\\n' % (n, base64.urlsafe_b64encode(hashlib.sha256(c).digest()).rstrip(b'=').decode(), len(c)) for n, c in files.items())
with zipfile.ZipFile(d + '/' + name, 'w', zipfile.ZIP_DEFLATED) as z:
    for n, c in files.items():
        z.writestr(n, c)
    z.writestr('fs_bigdata-1.0.0.dist-info/RECORD', rec + 'fs_bigdata-1.0.0.dist-info/RECORD,,\\n')
`,
            house,
          ],
          { encoding: 'utf8' },
        );
        assert.strictEqual(made.status, 0, made.stderr);
        const http = await import('http');
        const server = http.createServer((req, res) => {
          const f = path.join(house, path.basename(decodeURIComponent((req.url ?? '/').split('?')[0])));
          if (req.url === '/' || !fs.existsSync(f)) {
            res.writeHead(200, { 'content-type': 'text/html' });
            res.end(
              fs
                .readdirSync(house)
                .map((n) => `<a href="${n}">${n}</a>`)
                .join('\n'),
            );
            return;
          }
          fs.createReadStream(f).pipe(res);
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        const url = `http://127.0.0.1:${(server.address() as import('net').AddressInfo).port}/`;
        const m = fe.manager({ FLOWSESSION_PIP_FIND_LINKS: url });
        const filler = path.join(fe.mount, 'filler');
        try {
          const dir = jar.make({ ...HELLO_FLOW, 'requirements.txt': `fs-bigdata==1.0.0\n# ${world().runId} disk\n` });
          const free = fe.freeBytes();
          const keep = 60 * 1024 * 1024;
          assert.ok(free > keep, 'room to fill');
          const fd = fs.openSync(filler, 'w');
          try {
            // real blocks, not a sparse file: the disk is really full
            const chunk = Buffer.alloc(64 * 1024 * 1024);
            let left = free - keep;
            for (let i = 0; left > 0 && i < 10_000; i++) {
              const n = Math.min(chunk.length, left);
              fs.writeSync(fd, chunk, 0, n);
              left -= n;
            }
          } finally {
            fs.closeSync(fd);
          }
          const e = await rejectsWithin(m.up(dir), 120_000, 'a start on a full disk');
          assertClear(e, ['requirements-failed', 'engine-error', 'build-failed'], /space|disk|quota/i);
          const s = await m.status(dir);
          assert.strictEqual(s.state, 'failed');
          const left = (await fe.engine.listContainers({ 'flowsession.test': world().runId })).filter(
            (c) => c.labels[IMAGE_LABELS.kind] === 'builder',
          );
          assert.deepStrictEqual(
            left.map((c) => c.name),
            [],
            'no build container is left behind',
          );
          fs.rmSync(filler, { force: true });
          assert.strictEqual((await m.up(dir)).state, 'ready', 'after freeing space, one start works');
        } finally {
          fs.rmSync(filler, { force: true });
          m.dispose();
          server.close();
        }
      },
      200_000,
    );
  });

  it('a pull is interrupted: a clear pull error, nothing left, the next pull works', async () => {
    // an image with a layer of its own, in the test registry; the fault engine pulls it through a proxy that
    // breaks every big transfer in the middle
    const main = testEngine();
    const ref = `${world().registry}/flowsession-test/interrupted:${world().runId}`;
    const context = await packEntries([
      { name: 'Dockerfile', content: Buffer.from('FROM scratch\nCOPY blob.bin /blob.bin\n') },
      { name: 'blob.bin', content: crypto.randomBytes(4 * 1024 * 1024) },
    ]);
    await main.buildImage(Readable.from(context), { tag: ref, labels: { 'flowsession.test': world().runId } });
    await main.pushImage(ref);
    await main.removeImage(ref, true);
    const proxy = await startCuttingProxy(world().registry);
    const viaProxy = ref.replace(world().registry, proxy.address);
    const m = fe.manager({ FLOWSESSION_BASE_IMAGE: viaProxy });
    try {
      await fault('pull interrupted', async () => {
        const e = await rejectsWithin(fe.engine.pullImage(viaProxy), 60_000, 'a pull whose transfer breaks');
        assertClear(e, ['pull-failed']);
        assert.ok(proxy.cuts > 0, 'the transfer was really cut');
        assert.strictEqual(await fe.engine.inspectImage(viaProxy), undefined, 'no half-pulled image');
        // a session on that base: a failed start that says why, and nothing left
        const dir = jar.make(HELLO_FLOW);
        const failed = await rejectsWithin(m.up(dir), 60_000, 'a start whose base image pull breaks');
        assertClear(failed, ['image-not-found', 'pull-failed']);
        const s = await m.status(dir);
        assert.strictEqual(s.state, 'failed');
        assert.strictEqual((await fe.engine.listContainers({ 'flowsession.session': s.key })).length, 0);
        // the network is back: one pull works
        proxy.cutting = false;
        await within('a pull once the network is back', 60_000, fe.engine.pullImage(viaProxy));
        assert.ok(await fe.engine.inspectImage(viaProxy));
      });
    } finally {
      m.dispose();
      await proxy.close();
      await fe.engine.removeImage(viaProxy, true).catch(() => undefined);
    }
  });
});
