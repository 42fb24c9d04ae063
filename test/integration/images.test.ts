import * as assert from 'assert';
import Docker from 'dockerode';
import * as crypto from 'crypto';
import * as path from 'path';
import { Readable } from 'stream';
import { packEntries } from '../../src/core/docker/archive';
import type { ProgressReport } from '../../src/core/docker/progress';
import { isFlowSessionError } from '../../src/core/errors';
import { HELLO_FLOW } from '../support/flows/fixtures';
import { FlowJar } from '../support/flows/flowJar';
import { testManager } from '../support/world/manager';
import { testEngine, world, type WorldInfo } from '../support/world/world';

describe('images: pull, push and build against a loopback registry', function () {
  const engine = testEngine();
  let w: WorldInfo;
  before(() => {
    w = world();
  });
  const jar = new FlowJar();

  after(async () => {
    const manager = testManager();
    await jar.dispose([manager]);
    manager.dispose();
  });

  it('pushes an image and pulls it back with per-layer progress', async () => {
    // a layer of its own (random bytes), so the pull really transfers data
    const context = await packEntries([
      { name: 'Dockerfile', content: Buffer.from('FROM scratch\nCOPY blob.bin /blob.bin\n') },
      { name: 'blob.bin', content: crypto.randomBytes(3 * 1024 * 1024) },
    ]);
    const ref = `${w.registry}/flowsession-test/blob:${w.runId}`;
    const logs: string[] = [];
    await engine.buildImage(Readable.from(context), {
      tag: ref,
      labels: { 'flowsession.test': w.runId },
      onProgress: (r) => r.log && logs.push(r.log),
    });
    assert.match(logs.join(''), /COPY blob\.bin/, 'the build log is streamed');
    const pushReports: ProgressReport[] = [];
    const digest = await engine.pushImage(ref, (r) => pushReports.push(r));
    assert.match(digest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.ok(pushReports.length > 0);
    assert.strictEqual(await engine.registryDigest(ref), digest, 'the registry reports the pushed digest');
    await engine.removeImage(ref, true);
    assert.strictEqual(await engine.inspectImage(ref), undefined);

    const reports: ProgressReport[] = [];
    await engine.pullImage(ref, (r) => reports.push(r));
    const withLayers = reports.filter((r) => r.layers && r.layers.length > 0);
    assert.ok(withLayers.length > 0, 'per-layer progress');
    assert.ok(
      reports.some((r) => r.percent !== undefined && r.percent > 0 && r.percent < 100),
      `partial progress seen: ${reports.map((r) => r.percent).join(',')}`,
    );
    assert.strictEqual(withLayers[withLayers.length - 1].percent, 100);
    const pulled = await engine.inspectImage(ref);
    assert.ok(pulled);
    await engine.removeImage(ref, true);
  });

  it("fails a pull of an image the registry does not have, with the registry's words", async () => {
    await assert.rejects(engine.pullImage(`${w.registry}/flowsession-test/nothing-here:${w.runId}`), (e: unknown) => {
      assert.ok(isFlowSessionError(e));
      assert.strictEqual(e.kind, 'pull-failed');
      assert.match(e.message, /not found|manifest unknown/i);
      return true;
    });
  });

  it("fails a build whose step fails, with the build's error", async () => {
    const context = await packEntries([
      { name: 'Dockerfile', content: Buffer.from(`FROM ${w.baseImage}\nRUN ["python3", "-c", "raise SystemExit(3)"]\n`) },
    ]);
    await assert.rejects(
      engine.buildImage(Readable.from(context), { tag: `flowsession-test/broken:${w.runId}`, labels: { 'flowsession.test': w.runId } }),
      (e: unknown) => {
        assert.ok(isFlowSessionError(e));
        assert.strictEqual(e.kind, 'build-failed');
        assert.match(e.message, /returned a non-zero code: 3/);
        return true;
      },
    );
  });

  it('creates a session whose environment.image must be pulled from the registry', async () => {
    const ref = `${w.registry}/flowsession-test/base:${w.runId}`;
    const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), w.runId];
    await engine.tagImage(w.baseImage, repo, tag);
    await engine.pushImage(ref);
    // only the tag goes: the layers stay, as on a machine that has pulled a similar image
    await new Docker(engine.endpoint.options).getImage(ref).remove({ noprune: true });
    const flow = jar.make({ ...HELLO_FLOW, 'flow.dag.yaml': `environment:\n  image: ${ref}\n${HELLO_FLOW['flow.dag.yaml']}` });
    const manager = testManager({ FLOWSESSION_BASE_IMAGE: '' });
    try {
      const phases = new Set<string>();
      const s = await manager.up(flow, (r) => r.phase && phases.add(r.phase));
      assert.ok(phases.has('pulling'), `phases: ${[...phases]}`);
      assert.strictEqual(s.state, 'ready');
      assert.strictEqual(s.baseImage, ref);
      await engine.removeImage(ref, false).catch(() => undefined);
    } finally {
      manager.dispose();
    }
  });

  it('fails a session whose base image exists nowhere, leaving nothing', async () => {
    const flow = jar.make({
      ...HELLO_FLOW,
      'flow.dag.yaml': `environment:\n  image: ${w.registry}/flowsession-test/absent:${w.runId}\n${HELLO_FLOW['flow.dag.yaml']}`,
    });
    const manager = testManager({ FLOWSESSION_BASE_IMAGE: '' });
    try {
      await assert.rejects(
        manager.up(flow),
        (e: unknown) => isFlowSessionError(e) && e.kind === 'image-not-found' && /absent/.test(e.message),
      );
      assert.strictEqual((await testManager().status(flow)).state, 'not-created');
    } finally {
      manager.dispose();
    }
    void path;
  });
});
