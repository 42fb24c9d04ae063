/**
 * The session panel in a real VS Code (code-server + Chromium, the packaged extension) against the real
 * engine: a run started from the panel streams its nodes and shows the outputs; a package installed by
 * hand shows in the packages grid with origin "by hand". Run after `npm run build`:
 *   npx mocha -r ts-node/register/transpile-only --timeout 600000 test/e2e/ui/panel.test.ts
 * Sessions and images it makes carry flowsession.test=<run id> and are removed at the end.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { FrameLocator } from 'playwright-core';
import { resolveEndpoint } from '../../../src/core/docker/connection';
import { DockerEngine } from '../../../src/core/docker/dockerEngine';
import { BASE_IMAGE, ensureBaseImages } from '../../support/baseImages';
import { startWheelhouse, type Wheelhouse } from '../../support/wheelhouse';
import { cleanUp } from '../../support/world';
import { useWorkbench } from '../harness/mocha';
import { REPO_ROOT } from '../harness/paths';

// the test world's run id shape, so another run's leftover clean-up leaves this one alone while it lives
const RUN_ID = `run-${Date.now().toString(36)}-${process.pid}`;
const RUN_TIMEOUT_MS = 240_000;

describe('session panel (UI)', function () {
  this.timeout(RUN_TIMEOUT_MS + 60_000);
  const engine = new DockerEngine(resolveEndpoint());
  let tmp: string;
  let wheelhouse: Wheelhouse;

  before(async function () {
    this.timeout(300_000);
    await ensureBaseImages(engine, (l) => process.stderr.write(`      [base images] ${l}\n`));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-panel-ui-'));
    wheelhouse = await startWheelhouse(tmp);
  });

  const wb = useWorkbench(() => ({
    folder: path.join(REPO_ROOT, 'samples', 'hello-flow'),
    label: 'panel',
    env: { FLOWSESSION_BASE_IMAGE: BASE_IMAGE, FLOWSESSION_EXTRA_LABELS: `flowsession.test=${RUN_ID}` },
    // pip installs come from a loopback wheelhouse: no index, host networking for the session
    settings: { 'flowsession.pip.findLinks': [wheelhouse.url], 'flowsession.pip.noIndex': true, 'flowsession.network': 'host' },
  }));

  after(async function () {
    this.timeout(120_000);
    await cleanUp(engine, RUN_ID).catch((e) => process.stderr.write(`      [clean-up] ${(e as Error).message}\n`));
    await wheelhouse?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Runs a command once its `when` clause lets it show (flow commands wait for the workspace's flow search). */
  async function command(title: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await wb().runCommand(title, 3_000);
        return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await wb().page.keyboard.press('Escape');
        await wb().page.waitForTimeout(1_000);
      }
    }
  }

  /**
   * "Install Packages…" from the palette, answering its input box. Driven by hand: the harness's
   * runCommand waits for the quick input to close, and here the input box reuses it at once.
   */
  async function installByHand(spec: string): Promise<void> {
    const page = wb().page;
    const title = 'Flow Session: Install Packages…';
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('.quick-input-box input');
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (await widget.isVisible()) await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible' });
      await input.fill(`>${title}`);
      const row = widget.locator('.monaco-list-row.focused', { has: page.locator('.label-name', { hasText: title }) });
      if (await row.waitFor({ timeout: 3_000 }).then(() => true, () => false)) break;
      if (Date.now() > deadline) throw new Error(`no command ${title}`);
    }
    await page.keyboard.press('Enter');
    // the palette's text goes and no command rows are left: the input box asks for packages now
    await page.waitForFunction(() => {
      const box = document.querySelector<HTMLInputElement>('.quick-input-widget .quick-input-box input');
      return !!box && box.value === '' && document.querySelectorAll('.quick-input-widget .monaco-list-row').length === 0;
    }, undefined, { timeout: 15_000 });
    await input.fill(spec);
    await page.keyboard.press('Enter');
    await widget.waitFor({ state: 'hidden' });
  }

  async function panel(): Promise<FrameLocator> {
    const frame = wb().webviewFrame();
    await frame.locator('[data-testid="session-state"]').waitFor({ timeout: 30_000 });
    return frame;
  }

  it('opens on the flow with its inputs as a form, defaults filled in', async () => {
    await command('Flow Session: Open Session Panel');
    const frame = await panel();
    assert.strictEqual(await frame.locator('h1.title').textContent(), 'Flow session: hello-flow');
    const name = frame.locator('vscode-text-field[data-input="name"]');
    await name.waitFor();
    assert.strictEqual(await name.evaluate((e) => (e as HTMLInputElement).value), 'World');
    assert.strictEqual(await frame.locator('vscode-checkbox[data-input="excited"]').evaluate((e) => (e as HTMLInputElement).checked), true);
  });

  it('runs the flow from the panel: node output streams in, then the outputs', async () => {
    const frame = await panel();
    await frame.locator('vscode-text-field[data-input="name"] input').fill('Panel');
    await frame.locator('vscode-button[data-testid="run-button"]').click();
    // the run shows at once (preparing the session), before it has any result
    await frame.locator('[data-testid="run-status"]').waitFor({ timeout: 10_000 });
    await frame.locator('[data-testid="run-status"]', { hasText: /^(Completed|Failed|Canceled)$/ }).waitFor({ timeout: RUN_TIMEOUT_MS });
    assert.strictEqual(await frame.locator('[data-testid="run-status"]').textContent(), 'Completed', await frame.locator('[data-testid="run-output"]').textContent() ?? '');
    const greet = frame.locator('.node[data-node="greet"]');
    assert.strictEqual(await greet.getAttribute('data-status'), 'Completed');
    assert.match(await greet.locator('.node-log').textContent() ?? '', /greeting Panel/);
    assert.strictEqual(await frame.locator('.node[data-node="render_prompt"]').getAttribute('data-status'), 'Completed');
    const outputs = JSON.parse(await frame.locator('[data-testid="run-outputs"]').textContent() ?? '{}') as Record<string, string>;
    assert.strictEqual(outputs.greeting, 'Hello, Panel!');
    assert.match(outputs.prompt, /Hello, Panel!/);
    assert.strictEqual(await frame.locator('[data-testid="session-state"]').textContent(), 'Ready');
  });

  it('lists the run in the history and opens its files in the editor', async () => {
    const frame = await panel();
    await frame.locator('vscode-panel-tab#tab-history').click();
    const row = frame.locator('vscode-data-grid-row[data-run]').first();
    await row.waitFor({ timeout: 15_000 });
    assert.match(await row.textContent() ?? '', /Completed/);
    await row.locator('vscode-link[data-file="flow.output.json"]').click();
    await wb().page.locator('.tabs-container .tab[aria-label^="flow.output.json"]').waitFor({ timeout: 15_000 });
  });

  it('shows a package installed by hand in the packages grid, with origin "by hand"', async () => {
    await installByHand('fs-handy');
    // back to the panel (the file opened by the previous test may have taken the editor)
    await command('Flow Session: Open Session Panel');
    const frame = await panel();
    await frame.locator('vscode-panel-tab#tab-packages').click();
    const row = frame.locator('vscode-data-grid-row[data-origin="by-hand"]').filter({ hasText: /fs[-_]handy/i });
    await row.waitFor({ timeout: 180_000 });
    assert.match(await row.textContent() ?? '', /1\.2\.0[\s\S]*by hand/);
    // its dependency came by hand too; what the image brought is "base image"
    await frame.locator('vscode-data-grid-row[data-origin="by-hand"]').filter({ hasText: /fs[-_]extra/i }).waitFor();
    assert.ok(await frame.locator('vscode-data-grid-row[data-origin="base"]').count() > 0);
    assert.match(await frame.locator('.packages .note').textContent() ?? '', /installed by hand live until the session is reset/);
  });
});
