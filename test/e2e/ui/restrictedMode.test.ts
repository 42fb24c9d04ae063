/**
 * Restricted Mode in a real VS Code (code-server + Chromium, the packaged extension): Workspace Trust on and the
 * folder not trusted. Saving flow.dag.yaml still shows the static checks in the Problems panel (here an include
 * of /etc/passwd, refused on its line); Start Session says why it is not available, offers to manage trust, and
 * starts nothing. Run after `npm run build`:
 *   npx mocha -r ts-node/register/transpile-only --timeout 600000 test/e2e/ui/restrictedMode.test.ts
 */
import * as assert from 'assert';
import * as path from 'path';
import { resolveEndpoint } from '../../../src/core/docker/endpoint';
import { DockerEngine } from '../../../src/core/docker/dockerEngine';
import { sleep } from '../../support/waiting';
import { cleanUp } from '../../support/world/world';
import { useWorkbench } from '../harness/mocha';
import { REPO_ROOT } from '../harness/paths';

const RUN_ID = `run-${Date.now().toString(36)}-${process.pid}`;

describe('Restricted Mode (UI)', function () {
  this.timeout(600_000);
  const engine = new DockerEngine(resolveEndpoint());
  const wb = useWorkbench(() => ({
    folder: path.join(REPO_ROOT, 'samples', 'hello-flow'),
    label: 'restricted-mode-ui',
    settings: { 'security.workspace.trust.enabled': true },
    env: { FLOWSESSION_EXTRA_LABELS: `flowsession.test=${RUN_ID}` },
  }));

  after(async function () {
    this.timeout(120_000);
    await cleanUp(engine, RUN_ID).catch((e) => process.stderr.write(`      [clean-up] ${(e as Error).message}\n`));
  });

  it('shows the static checks on save', async () => {
    await wb().openFile('flow.dag.yaml');
    await wb().typeInEditor('');
    await wb().page.keyboard.press('Control+End');
    await wb().typeInEditor('\nadditional_includes: [/etc/passwd]\n');
    await wb().save();
    const problems = await wb().waitForProblems((ps) => ps.some((p) => /\/etc\/passwd/.test(p.text)), 90_000);
    const row = problems.find((p) => /\/etc\/passwd/.test(p.text))?.text ?? '';
    assert.match(row, /protected location/, row);
  });

  it('refuses Start Session with the reason and a way to manage trust, and starts nothing', async () => {
    await wb().openFile('flow.dag.yaml');
    await wb().runCommand('Flow Session: Start Session');
    const toast = wb().notifications().filter({ hasText: 'Restricted Mode' }).first();
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    await toast.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).waitFor({ state: 'visible' });
    await sleep(5_000); // a session start would have created its container by now
    assert.deepStrictEqual(await engine.listContainers({ 'flowsession.test': RUN_ID }), [], 'no session was created');
  });
});
