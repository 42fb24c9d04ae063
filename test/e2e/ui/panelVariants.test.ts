/**
 * Issue 11 in a real VS Code (code-server + Chromium, the packaged extension) against the real engine: the session
 * panel runs the variant picked for a node and says so, shows runs' metrics side by side, and the Run Node CodeLens
 * of flow.dag.yaml runs that node alone in the panel. Run after `npm run build`:
 *   npx mocha -r ts-node/register/transpile-only --timeout 600000 test/e2e/ui/panelVariants.test.ts
 * Sessions it makes carry flowsession.test=<run id> and are removed at the end.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { FrameLocator } from 'playwright-core';
import { resolveEndpoint } from '../../../src/core/docker/endpoint';
import { DockerEngine } from '../../../src/core/docker/dockerEngine';
import { BASE_IMAGE, ensureBaseImages } from '../../support/world/baseImages';
import { cleanUp } from '../../support/world/world';
import { useWorkbench } from '../harness/mocha';

const RUN_ID = `run-${Date.now().toString(36)}-${process.pid}`;
const RUN_TIMEOUT_MS = 240_000;

const FLOW = {
  'flow.dag.yaml': `inputs:
  text:
    type: string
    default: Hello Panel
outputs:
  said:
    type: string
    reference: \${shout.output}
nodes:
- name: shout
  use_variants: true
- name: score
  type: python
  source: {type: code, path: score.py}
  inputs:
    said: \${shout.output}
  aggregation: true
node_variants:
  shout:
    default_variant_id: quiet
    variants:
      quiet:
        node:
          type: python
          source: {type: code, path: shout.py}
          inputs:
            text: \${inputs.text}
            loud: false
      loud:
        node:
          type: python
          source: {type: code, path: shout.py}
          inputs:
            text: \${inputs.text}
            loud: true
`,
  'shout.py': `from promptflow import tool


@tool
def shout(text: str, loud: bool) -> str:
    return text.upper() + "!" if loud else text.lower()
`,
  'score.py': `from promptflow import tool, log_metric


@tool
def score(said: list) -> int:
    capitals = sum(1 for s in said for c in s if c.isupper())
    log_metric("capitals", capitals)
    return capitals
`,
};

/** The `said` output of the run shown, as the panel prints a text value. */
function said(frame: FrameLocator) {
  return frame.locator('[data-testid="run-outputs"] [data-output="said"] [data-testid="value-text"]');
}

describe('session panel: variants, metrics and Run Node (UI)', function () {
  this.timeout(RUN_TIMEOUT_MS + 60_000);
  const engine = new DockerEngine(resolveEndpoint());
  const flowDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-variants-ui-'));

  before(async function () {
    this.timeout(300_000);
    await ensureBaseImages(engine, (l) => process.stderr.write(`      [base images] ${l}\n`));
    for (const [name, text] of Object.entries(FLOW)) fs.writeFileSync(path.join(flowDir, name), text);
  });

  const wb = useWorkbench(() => ({
    folder: flowDir,
    label: 'panel-variants',
    env: { FLOWSESSION_DEFAULT_BASE_IMAGE: BASE_IMAGE, FLOWSESSION_EXTRA_LABELS: `flowsession.test=${RUN_ID}` },
  }));

  after(async function () {
    this.timeout(120_000);
    await cleanUp(engine, RUN_ID).catch((e) => process.stderr.write(`      [clean-up] ${(e as Error).message}\n`));
    fs.rmSync(flowDir, { recursive: true, force: true });
  });

  async function panel(): Promise<FrameLocator> {
    const frame = wb().webviewFrame();
    await frame.locator('[data-testid="session-state"]').waitFor({ timeout: 30_000 });
    return frame;
  }

  async function runAndWait(frame: FrameLocator): Promise<string> {
    await frame.locator('vscode-button[data-testid="run-button"]').click();
    await frame.locator('[data-testid="run-status"]').waitFor({ timeout: 10_000 });
    await frame.locator('[data-testid="run-status"]', { hasText: /^(Completed|Failed|Canceled)$/ }).waitFor({ timeout: RUN_TIMEOUT_MS });
    return (await frame.locator('[data-testid="run-status"]').textContent()) ?? '';
  }

  it('offers the variants of the node, default first, and runs the one picked, saying so', async () => {
    await wb().runCommandWhenShown('Flow Session: Open Session Panel');
    const frame = await panel();
    const select = frame.locator('select[data-variant="shout"]');
    await select.waitFor({ timeout: 30_000 });
    assert.strictEqual(await select.inputValue(), 'quiet');
    assert.deepStrictEqual(await select.locator('option').allTextContents(), ['quiet (default)', 'loud']);

    assert.strictEqual(await runAndWait(frame), 'Completed', (await frame.locator('[data-testid="run-output"]').textContent()) ?? '');
    assert.strictEqual(await frame.locator('[data-testid="run-variants"]').textContent(), 'variants: shout=quiet');
    assert.strictEqual(await said(frame).textContent(), 'hello panel');

    await select.selectOption('loud');
    assert.strictEqual(await runAndWait(frame), 'Completed');
    assert.strictEqual(await frame.locator('[data-testid="run-variants"]').textContent(), 'variants: shout=loud');
    assert.strictEqual(await said(frame).textContent(), 'HELLO PANEL!');
  });

  it("lists the runs with their metrics and variants, and shows picked runs' metrics side by side", async () => {
    const frame = await panel();
    await frame.locator('vscode-panel-tab#tab-history').click();
    const picks = frame.locator('vscode-checkbox[data-select]');
    await picks.nth(1).waitFor({ timeout: 15_000 });
    // newest first: the loud run (10 capitals), then the quiet one (none); each row shows its metrics and variants
    assert.match((await frame.locator('vscode-data-grid-row[data-run]').nth(0).textContent()) ?? '', /shout=loud[\s\S]*capitals=10/);
    await picks.nth(0).click();
    await picks.nth(1).click();
    await frame.locator('vscode-button[data-testid="compare-button"]:not([disabled])').click();
    const summary = frame.locator('[data-testid="compare-summary"]');
    await summary.waitFor({ timeout: 15_000 });
    assert.deepStrictEqual(await summary.locator('tr.compare-metric').first().locator('th, td').allTextContents(), [
      'metric capitals',
      '10',
      '0',
    ]);
    assert.match((await summary.textContent()) ?? '', /shout: loud[\s\S]*shout: quiet/);
  });

  it('runs the node of the Run Node CodeLens alone in the panel', async () => {
    await wb().openFile('flow.dag.yaml');
    const lens = wb().page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Run Node' }).first();
    await lens.waitFor({ timeout: 30_000 });
    await lens.click();
    const frame = await panel();
    await frame.locator('[data-testid="run-node"]', { hasText: 'node shout' }).waitFor({ timeout: 30_000 });
    await frame.locator('[data-testid="run-status"]', { hasText: /^(Completed|Failed|Canceled)$/ }).waitFor({ timeout: RUN_TIMEOUT_MS });
    assert.strictEqual(
      await frame.locator('[data-testid="run-status"]').textContent(),
      'Completed',
      (await frame.locator('[data-testid="run-output"]').textContent()) ?? '',
    );
    assert.deepStrictEqual(await frame.locator('.node[data-node]').evaluateAll((ns) => ns.map((n) => n.getAttribute('data-node'))), [
      'shout',
    ]);
  });

  it('ran under its Content-Security-Policy without a violation', () => {
    const log = fs.readFileSync(path.join(wb().runDir, 'browser.log'), 'utf8');
    assert.deepStrictEqual(
      log.split('\n').filter((l) => /Content Security Policy/i.test(l)),
      [],
    );
  });
});
