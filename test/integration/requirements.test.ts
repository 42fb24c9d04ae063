import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { json, runCli } from '../support/cli';
import { HELLO_FLOW } from '../support/flows/fixtures';
import { FlowJar } from '../support/flows/flowJar';
import { testManager } from '../support/world/manager';
import { testEngine, world } from '../support/world/world';
import type { ProgressReport } from '../../src/core/docker/progress';
import { IMAGE_LABELS } from '../../src/core/image/labels';
import { isFlowSessionError } from '../../src/core/errors';

interface Pkg {
  name: string;
  version: string;
  origin: string;
}

describe('requirements and packages against the real engine', function () {
  const jar = new FlowJar();
  const flowWith = (requirements?: string, extra: Record<string, string> = {}) => {
    const files: Record<string, string> = { ...HELLO_FLOW, ...extra };
    if (requirements !== undefined) files['requirements.txt'] = requirements;
    return jar.make(files);
  };

  after(async () => {
    const manager = testManager();
    await jar.dispose([manager]);
    manager.dispose();
  });

  it('installs requirements.txt from a local wheelhouse, and reuses the environment for a second session', async () => {
    // a requirement unique to this run, so the first session really installs
    const requirements = `fs-greeting==1.0.0\nfs-handy\n# run ${world().runId}\n`;
    const first = flowWith(requirements);
    const manager = testManager();
    try {
      const phases: string[] = [];
      const logs: string[] = [];
      const t0 = Date.now();
      const s1 = await manager.up(first, (r: ProgressReport) => {
        if (r.phase) phases.push(r.phase);
        if (r.log) logs.push(r.log);
      });
      const firstMs = Date.now() - t0;
      assert.strictEqual(s1.state, 'ready');
      assert.ok(phases.includes('installing'), `phases: ${[...new Set(phases)]}`);
      assert.match(logs.join(''), /Successfully installed .*fs-greeting-1\.0\.0/);
      const pkgs = json<{ packages: Pkg[]; note: string }>(await runCli(['session', 'packages', first, '--json'])).packages;
      const find = (n: string) => pkgs.find((p) => p.name === n);
      assert.deepStrictEqual(find('fs-greeting'), { name: 'fs-greeting', version: '1.0.0', origin: 'requirements' });
      assert.strictEqual(find('fs-extra')?.origin, 'requirements', 'dependencies of requirements count as requirements');
      assert.strictEqual(find('Jinja2')?.origin ?? find('jinja2')?.origin, 'base');
      const imported = await manager.engine.exec(s1.container!, [
        'python',
        '-c',
        'import fs_greeting, fs_handy; print(fs_greeting.greet("x"))',
      ]);
      assert.strictEqual(imported.stdout.trim(), 'Hello, x');

      const second = flowWith(requirements);
      const phases2: string[] = [];
      const t1 = Date.now();
      const s2 = await manager.up(second, (r) => r.phase && phases2.push(r.phase));
      const secondMs = Date.now() - t1;
      assert.strictEqual(s2.state, 'ready');
      assert.strictEqual(s2.image, s1.image, 'the same environment image');
      assert.strictEqual(s2.env, s1.env);
      assert.ok(!phases2.includes('installing'), `no pip run the second time; phases: ${[...new Set(phases2)]}`);
      assert.ok(secondMs < firstMs, `second session ${secondMs} ms, first ${firstMs} ms`);
    } finally {
      manager.dispose();
    }
  });

  it("fails a nonexistent requirement with pip's message and leaves nothing behind", async () => {
    const flow = flowWith(`fs-no-such-package==9.9.9\n# ${world().runId}\n`);
    const engine = testEngine();
    const envImagesBefore = (await engine.listImages({ [IMAGE_LABELS.kind]: 'environment' })).length;
    const r = await runCli(['session', 'up', flow, '--json']);
    assert.strictEqual(r.code, 1);
    assert.match(r.stderr, /No matching distribution found for fs-no-such-package==9\.9\.9/);
    assert.strictEqual(json<{ error: { kind: string } }>(r).error.kind, 'requirements-failed');
    const status = json<{ state: string; container: string | null }>(await runCli(['session', 'status', flow, '--json']));
    assert.strictEqual(status.state, 'not-created');
    assert.deepStrictEqual(await engine.listContainers({ [IMAGE_LABELS.kind]: 'builder' }), [], 'no build container left');
    assert.strictEqual((await engine.listImages({ [IMAGE_LABELS.kind]: 'environment' })).length, envImagesBefore, 'no half-made image');
  });

  it('lists a package installed by hand, which a reset removes', async () => {
    const flow = flowWith();
    const manager = testManager();
    try {
      await manager.up(flow);
      const installed = await runCli(['session', 'install', flow, 'fs-extra==0.3.0', '--json']);
      assert.strictEqual(installed.code, 0, installed.stderr);
      const listed = json<{ packages: Pkg[]; note: string }>(await runCli(['session', 'packages', flow, '--json']));
      assert.deepStrictEqual(
        listed.packages.find((p) => p.name === 'fs-extra'),
        { name: 'fs-extra', version: '0.3.0', origin: 'by-hand' },
      );
      assert.match(listed.note, /installed by hand disappear when the session is reset/);
      await manager.reset(flow);
      const after = await manager.packages(flow);
      assert.strictEqual(
        after.find((p) => p.name === 'fs-extra'),
        undefined,
      );
      assert.ok(after.every((p) => p.origin !== 'by-hand'));
    } finally {
      manager.dispose();
    }
  });

  it('refuses package names carrying shell syntax or options', async () => {
    const flow = flowWith();
    for (const bad of ['fs-extra; rm -rf /', '--index-url=http://evil', '$(id)', 'a b']) {
      const r = await runCli(['session', 'install', flow, '--', bad]);
      assert.strictEqual(r.code, 1, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /is not a package requirement flowsession accepts/);
    }
  });

  it('marks the session outdated when the requirements change, and a reset applies them', async () => {
    const flow = flowWith(`fs-greeting==1.0.0\n`);
    const manager = testManager();
    try {
      const s = await manager.up(flow);
      assert.strictEqual(s.outdated, false);
      fs.writeFileSync(path.join(flow, 'requirements.txt'), 'fs-greeting==2.0.0\n');
      assert.strictEqual((await manager.status(flow)).outdated, true);
      const json1 = json<{ outdated: boolean }>(await runCli(['session', 'status', flow, '--json']));
      assert.strictEqual(json1.outdated, true);
      const reset = await manager.reset(flow);
      assert.strictEqual(reset.outdated, false);
      assert.notStrictEqual(reset.env, s.env);
      const pkgs = await manager.packages(flow);
      assert.strictEqual(pkgs.find((p) => p.name === 'fs-greeting')?.version, '2.0.0');
    } finally {
      manager.dispose();
    }
  });

  it('marks the session outdated when environment.image changes', async () => {
    const flow = flowWith();
    const manager = testManager({ FLOWSESSION_BASE_IMAGE: '' });
    try {
      fs.writeFileSync(path.join(flow, 'flow.dag.yaml'), `environment:\n  image: ${world().baseImage}\n${HELLO_FLOW['flow.dag.yaml']}`);
      await manager.up(flow);
      assert.strictEqual((await manager.status(flow)).outdated, false);
      fs.writeFileSync(path.join(flow, 'flow.dag.yaml'), `environment:\n  image: ${world().altBaseImage}\n${HELLO_FLOW['flow.dag.yaml']}`);
      assert.strictEqual((await manager.status(flow)).outdated, true);
      const reset = await manager.reset(flow);
      assert.strictEqual(reset.baseImage, world().altBaseImage);
      const marker = await manager.engine.exec(reset.container!, ['cat', '/etc/flowsession-alt-base']);
      assert.strictEqual(marker.stdout, 'alt', 'the session runs on the new base');
    } finally {
      manager.dispose();
    }
  });

  it("reports a failed create as the session's state, with the reason", async () => {
    const flow = flowWith('fs-missing-too==1.0\n');
    const manager = testManager();
    try {
      await assert.rejects(manager.up(flow), (e: unknown) => isFlowSessionError(e) && e.kind === 'requirements-failed');
      const s = await manager.status(flow);
      assert.strictEqual(s.state, 'failed');
      assert.match(s.reason ?? '', /No matching distribution found for fs-missing-too/);
    } finally {
      manager.dispose();
    }
  });
});
