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
import { resolveEndpoint } from '../../../src/core/docker/endpoint';
import { DockerEngine } from '../../../src/core/docker/dockerEngine';
import { BASE_IMAGE, ensureBaseImages } from '../../support/world/baseImages';
import { startWheelhouse, type Wheelhouse } from '../../support/world/wheelhouse';
import { cleanUp } from '../../support/world/world';
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
    // as `npm start` opens it where the default base image cannot be pulled: the Debian base stands in for the default
    env: { FLOWSESSION_DEFAULT_BASE_IMAGE: BASE_IMAGE, FLOWSESSION_EXTRA_LABELS: `flowsession.test=${RUN_ID}` },
    // pip installs come from a loopback wheelhouse: no index, host networking for the session
    settings: { 'flowsession.pip.findLinks': [wheelhouse.url], 'flowsession.pip.noIndex': true, 'flowsession.network': 'host' },
  }));

  after(async function () {
    this.timeout(120_000);
    await cleanUp(engine, RUN_ID).catch((e) => process.stderr.write(`      [clean-up] ${(e as Error).message}\n`));
    await wheelhouse?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** "Install Packages…" from the palette, answering its input box. */
  async function installByHand(spec: string): Promise<void> {
    const page = wb().page;
    await wb().runCommandWhenShown('Flow Session: Install Packages…');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(spec);
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  async function panel(): Promise<FrameLocator> {
    const frame = wb().webviewFrame();
    await frame.locator('[data-testid="session-state"]').waitFor({ timeout: 30_000 });
    return frame;
  }

  it('opens on the flow with its inputs as a form, defaults filled in', async () => {
    await wb().runCommandWhenShown('Flow Session: Open Session Panel');
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
    assert.strictEqual(
      await frame.locator('[data-testid="run-status"]').textContent(),
      'Completed',
      (await frame.locator('[data-testid="run-output"]').textContent()) ?? '',
    );
    const greet = frame.locator('.node[data-node="greet"]');
    assert.strictEqual(await greet.getAttribute('data-status'), 'Completed');
    assert.match((await greet.locator('.node-log').textContent()) ?? '', /greeting Panel/);
    assert.strictEqual(await frame.locator('.node[data-node="render_prompt"]').getAttribute('data-status'), 'Completed');
    // outputs are readable: a text output shows as text with its line breaks, not as a JSON string of \n
    const output = (name: string) => frame.locator(`[data-testid="run-outputs"] [data-output="${name}"] [data-testid="value-text"]`);
    assert.strictEqual(await output('greeting').textContent(), 'Hello, Panel!');
    assert.match(
      (await output('prompt').textContent()) ?? '',
      /^# system:\nYou are a friendly assistant\.\n\n# user:\nReply to this greeting: Hello, Panel!\n?$/,
    );
    assert.strictEqual(await frame.locator('[data-testid="session-state"]').textContent(), 'Ready');
  });

  it('shows the same run and form again after being hidden (its page is rebuilt then)', async () => {
    // a mark on the page: gone after the panel is shown again only if the page was really rebuilt
    await (await panel()).locator('body').evaluate((b) => (b.dataset.probe = 'old page'));
    // another editor in the panel's group hides it
    await wb().runCommand('File: New Untitled Text File');
    await wb().page.locator('.tabs-container .tab.active[aria-label^="Untitled"]').waitFor({ timeout: 10_000 });
    await wb().page.locator('.tabs-container .tab[aria-label^="Session: hello-flow"]').click();
    const frame = await panel();
    assert.strictEqual(await frame.locator('body').getAttribute('data-probe'), null);
    await frame.locator('[data-testid="run-outputs"]', { hasText: 'Hello, Panel!' }).waitFor({ timeout: 15_000 });
    assert.strictEqual(await frame.locator('[data-testid="run-status"]').textContent(), 'Completed');
    assert.strictEqual(await frame.locator('vscode-text-field[data-input="name"]').evaluate((e) => (e as HTMLInputElement).value), 'Panel');
  });

  it("draws the flow as a graph with each node's status, shows the run's trace timeline, and opens a node's source", async () => {
    const frame = await panel();
    const graph = frame.locator('[data-testid="flow-graph"]');
    await graph.waitFor({ timeout: 15_000 });
    assert.deepStrictEqual(
      await graph.locator('[data-graph-node]').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-graph-node')).sort()),
      ['input:excited', 'input:name', 'node:greet', 'node:render_prompt', 'output:greeting', 'output:prompt'],
    );
    assert.strictEqual(await graph.locator('path.graph-edge').count(), 5);
    assert.strictEqual(await graph.locator('[data-graph-node="node:greet"]').getAttribute('data-status'), 'completed');
    assert.match((await graph.locator('[data-graph-node="node:render_prompt"]').textContent()) ?? '', /completed · \d+ ms/);
    const trace = frame.locator('[data-testid="trace-timeline"]');
    await trace.waitFor({ timeout: 15_000 });
    assert.deepStrictEqual(await trace.locator('[data-span]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-span'))), [
      'flow',
      'greet',
      'render_prompt',
    ]);
    assert.match((await trace.locator('[data-testid="trace-totals"]').textContent()) ?? '', /^0 LLM calls, 0 tokens \(0 in, 0 out\) in /);
    await graph.locator('[data-graph-node="node:greet"]').click();
    await wb().page.locator('.tabs-container .tab[aria-label^="greet.py"]').waitFor({ timeout: 15_000 });
  });

  it('lists the run in the history and opens its files in the editor', async () => {
    const frame = await panel();
    await frame.locator('vscode-panel-tab#tab-history').click();
    const row = frame.locator('vscode-data-grid-row[data-run]').first();
    await row.waitFor({ timeout: 15_000 });
    assert.match((await row.textContent()) ?? '', /Completed/);
    assert.ok((await row.locator('vscode-link[data-file="trace.json"]').count()) === 1, 'the run keeps its trace');
    await row.locator('vscode-link[data-action="showTrace"]').click();
    await frame.locator('.history-trace [data-testid="trace-timeline"] [data-span="greet"]').waitFor({ timeout: 15_000 });
    await row.locator('vscode-link[data-file="flow.output.json"]').click();
    await wb().page.locator('.tabs-container .tab[aria-label^="flow.output.json"]').waitFor({ timeout: 15_000 });
  });

  it('compares two runs of the history side by side', async () => {
    await wb().runCommandWhenShown('Flow Session: Open Session Panel');
    const frame = await panel();
    await frame.locator('vscode-panel-tab#tab-run').click();
    await frame.locator('vscode-text-field[data-input="name"] input').fill('Second');
    await frame.locator('vscode-button[data-testid="run-button"]').click();
    await frame.locator('[data-testid="run-status"]', { hasText: 'Completed' }).waitFor({ timeout: RUN_TIMEOUT_MS });
    await frame.locator('vscode-panel-tab#tab-history').click();
    await frame.locator('vscode-data-grid-row[data-run]').nth(1).waitFor({ timeout: 15_000 });
    await frame.locator('vscode-checkbox[data-select]').nth(0).click();
    await frame.locator('vscode-checkbox[data-select]').nth(1).click();
    await frame.locator('vscode-button[data-testid="compare-button"]:not([disabled])').click();
    const lines = frame.locator('[data-testid="compare-lines"]');
    await lines.waitFor({ timeout: 15_000 });
    const text = (await lines.textContent()) ?? '';
    assert.ok(text.includes('Hello, Second!') && text.includes('Hello, Panel!'), text);
    assert.match((await frame.locator('[data-testid="compare-summary"]').textContent()) ?? '', /Tokens0 tokens \(0 in, 0 out\)0 tokens/);
  });

  it("streams a node's output while it runs, and cancels the run", async () => {
    // greet.py of the workspace copy: for "slow" it prints, then waits long enough to be watched and cancelled
    fs.writeFileSync(
      path.join(wb().folder, 'greet.py'),
      [
        'import sys, time',
        'from promptflow.core import tool',
        '',
        '',
        '@tool',
        'def greet(name: str, excited: bool = False) -> str:',
        '    print(f"greeting {name}", flush=True)',
        '    if name == "slow":',
        '        time.sleep(60)',
        "    return f\"Hello, {name}{'!' if excited else '.'}\"",
        '',
      ].join('\n'),
    );
    await wb().runCommandWhenShown('Flow Session: Open Session Panel');
    const frame = await panel();
    await frame.locator('vscode-panel-tab#tab-run').click();
    await frame.locator('vscode-text-field[data-input="name"] input').fill('slow');
    await frame.locator('vscode-button[data-testid="run-button"]').click();
    await frame.locator('.node[data-node="greet"] .node-log', { hasText: 'greeting slow' }).waitFor({ timeout: 60_000 });
    // the log is there while the node and the run still go: it was streamed, not shown at the end
    assert.strictEqual(await frame.locator('.node[data-node="greet"]').getAttribute('data-status'), 'Running');
    // the graph follows the run live: greet runs, render_prompt waits for it
    const graphNode = (id: string) => frame.locator(`[data-testid="flow-graph"] [data-graph-node="${id}"]`);
    assert.strictEqual(await graphNode('node:greet').getAttribute('data-status'), 'running');
    assert.strictEqual(await graphNode('node:render_prompt').getAttribute('data-status'), 'pending');
    assert.strictEqual(await frame.locator('[data-testid="run-status"]').textContent(), 'Running');
    await frame.locator('[data-testid="run-head"] vscode-button[data-action="cancel"]').click();
    await frame.locator('[data-testid="run-status"]', { hasText: 'Canceled' }).waitFor({ timeout: 30_000 });
    assert.strictEqual(await frame.locator('.node[data-node="render_prompt"]').count(), 0, 'no node after the cancelled one ran');
    assert.strictEqual(await graphNode('node:greet').getAttribute('data-status'), 'canceled');
    assert.strictEqual(
      await frame.locator('vscode-button[data-testid="run-button"]').getAttribute('disabled'),
      null,
      'Run is offered again',
    );
  });

  it('shows a package installed by hand in the packages grid, with origin "by hand"', async () => {
    await installByHand('fs-handy');
    // back to the panel (the file opened by the previous test may have taken the editor)
    await wb().runCommandWhenShown('Flow Session: Open Session Panel');
    const frame = await panel();
    await frame.locator('vscode-panel-tab#tab-packages').click();
    const row = frame.locator('vscode-data-grid-row[data-origin="by-hand"]').filter({ hasText: /fs[-_]handy/i });
    await row.waitFor({ timeout: 180_000 });
    assert.match((await row.textContent()) ?? '', /1\.2\.0[\s\S]*by hand/);
    // its dependency came by hand too; what the image brought is "base image"
    await frame
      .locator('vscode-data-grid-row[data-origin="by-hand"]')
      .filter({ hasText: /fs[-_]extra/i })
      .waitFor();
    assert.ok((await frame.locator('vscode-data-grid-row[data-origin="base"]').count()) > 0);
    assert.match((await frame.locator('.packages .note').textContent()) ?? '', /installed by hand live until the session is reset/);
  });

  it('comes back after the window reloads (WebviewPanelSerializer)', async () => {
    await wb().page.reload({ waitUntil: 'domcontentloaded' });
    await wb().waitReady();
    await wb().page.locator('.tabs-container .tab[aria-label^="Session: hello-flow"]').click();
    const frame = await panel();
    assert.strictEqual(await frame.locator('h1.title').textContent(), 'Flow session: hello-flow');
    await frame.locator('[data-testid="session-state"]', { hasText: 'Ready' }).waitFor({ timeout: 30_000 });
  });

  it('ran under its Content-Security-Policy without a violation', () => {
    // the browser logs every blocked script, style or attribute of the page and its webview frames
    const log = fs.readFileSync(path.join(wb().runDir, 'browser.log'), 'utf8');
    const violations = log.split('\n').filter((l) => /Content Security Policy/i.test(l));
    assert.deepStrictEqual(violations, []);
  });
});
