/**
 * The sidebar and the Problems panel in a real VS Code (code-server + Chromium, the packaged extension),
 * against the real engine, driven like a person: with flow.dag.yaml open right after the workbench loads,
 * "Flow Session: Start Session" is in the command palette at once and the Sessions tree shows the flow
 * ready; saving a .py with a missing import puts a PythonLoadError on its line in the Problems panel and
 * saving the fix clears it; a jinja2 syntax error marks its line; an unreachable engine shows the welcome view. Run after `npm run build`:
 *   npx mocha -r ts-node/register/transpile-only --timeout 600000 test/e2e/ui/sessions.test.ts
 * Sessions it makes carry flowsession.test=<run id> and are removed at the end.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { resolveEndpoint } from '../../../src/core/docker/endpoint';
import { DockerEngine } from '../../../src/core/docker/dockerEngine';
import { BASE_IMAGE, ensureBaseImages } from '../../support/world/baseImages';
import { cleanUp } from '../../support/world/world';
import { useWorkbench } from '../harness/mocha';
import { REPO_ROOT } from '../harness/paths';
import type { Workbench } from '../harness/workbench';
import { waitUntil } from '../../support/waiting';

const RUN_ID = `run-${Date.now().toString(36)}-${process.pid}`;

/** The Sessions rows' visible text (label + description). */
async function sessionRows(wb: Workbench): Promise<string[]> {
  const pane = wb.view('Sessions');
  await pane.waitFor({ state: 'visible' });
  return pane.locator('.monaco-list-row').evaluateAll((els) => els.map((e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim()));
}

function waitForRow(wb: Workbench, predicate: (rows: string[]) => boolean, what: string, timeoutMs: number): Promise<string[]> {
  return waitUntil(
    what,
    timeoutMs,
    async () => {
      const rows = await sessionRows(wb).catch(() => []);
      if (predicate(rows)) return rows;
      throw new Error(`rows were ${JSON.stringify(rows)}`);
    },
    250,
  );
}

/** The Problems panel rows as shown (textContent: message, source(code), [Ln, Col]); problems() gives the aria-labels. */
async function problemTexts(wb: Workbench): Promise<string[]> {
  return wb.page
    .locator('.markers-panel .monaco-list-row')
    .evaluateAll((els) => els.map((e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim()));
}

/** Opens a file, adds a line after `afterLine` (1-based; 0 = at the top) by typing, and saves. */
async function addLineAndSave(wb: Workbench, relPath: string, afterLine: number, text: string): Promise<void> {
  await wb.openFile(relPath);
  await wb.typeInEditor('');
  await wb.page.keyboard.press('Control+Home');
  for (let i = 1; i < afterLine; i++) await wb.page.keyboard.press('ArrowDown');
  if (afterLine > 0) {
    await wb.page.keyboard.press('End');
    await wb.page.keyboard.press('Enter');
  } else {
    await wb.page.keyboard.press('Enter');
    await wb.page.keyboard.press('ArrowUp');
  }
  await wb.page.keyboard.press('Home');
  await wb.typeInEditor(text);
  await wb.save();
}

/** Deletes the line the cursor is on (the one just added) and saves. */
async function deleteLineAndSave(wb: Workbench): Promise<void> {
  await wb.typeInEditor('');
  await wb.page.keyboard.press('Control+Shift+K');
  await wb.save();
}

describe('sidebar, palette and Problems panel (UI)', function () {
  this.timeout(600_000);
  const engine = new DockerEngine(resolveEndpoint());

  before(async function () {
    this.timeout(300_000);
    await ensureBaseImages(engine, (l) => process.stderr.write(`      [base images] ${l}\n`));
  });

  after(async function () {
    this.timeout(120_000);
    await cleanUp(engine, RUN_ID).catch((e) => process.stderr.write(`      [clean-up] ${(e as Error).message}\n`));
  });

  describe('with the engine', () => {
    const wb = useWorkbench(() => ({
      folder: path.join(REPO_ROOT, 'samples', 'hello-flow'),
      label: 'sessions-ui',
      env: { FLOWSESSION_BASE_IMAGE: BASE_IMAGE, FLOWSESSION_EXTRA_LABELS: `flowsession.test=${RUN_ID}` },
    }));

    it('offers "Flow Session: Start Session" in the palette as soon as a flow file is open, and starts the session', async () => {
      // right after the workbench loads: the active editor's flow is known before the workspace search ends
      await wb().openFile('flow.dag.yaml');
      await wb().runCommand('Flow Session: Start Session');
      await wb().openActivityBarItem('Flow Sessions');
      await waitForRow(
        wb(),
        (rows) => rows.some((r) => r.startsWith('hello-flow') && r.endsWith('ready')),
        'the flow row to show ready',
        300_000,
      );
    });

    it('puts a PythonLoadError on the import line in the Problems panel and clears it on fix', async () => {
      const file = path.join(wb().folder, 'greet.py');
      const good = fs.readFileSync(file, 'utf8');
      await addLineAndSave(wb(), 'greet.py', 1, 'import flowsession_no_such_module');
      assert.strictEqual(
        fs.readFileSync(file, 'utf8').split('\n')[1],
        'import flowsession_no_such_module',
        'the saved file has the import on line 2',
      );
      const problems = await wb().waitForProblems((ps) => ps.some((p) => p.text.includes('flowsession_no_such_module')), 60_000);
      const row = problems.find((p) => p.text.includes('flowsession_no_such_module'))!.text;
      assert.match(row, /\bline 2\b/i, 'on the import line');
      const shown = (await problemTexts(wb())).find((t) => t.includes('flowsession_no_such_module')) ?? '';
      assert.match(shown, /PythonLoadError/, `the row shows the prompt flow code: ${shown}`);
      await wb().openFile('greet.py');
      await wb().page.keyboard.press('Control+Home');
      await wb().page.keyboard.press('ArrowDown');
      await deleteLineAndSave(wb());
      assert.strictEqual(fs.readFileSync(file, 'utf8'), good);
      await wb().waitForProblems((ps) => !ps.some((p) => p.text.includes('flowsession_no_such_module')), 60_000);
    });

    it('marks the line of a jinja2 syntax error', async () => {
      const file = path.join(wb().folder, 'prompt.jinja2');
      const good = fs.readFileSync(file, 'utf8');
      const target = good.split('\n').findIndex((l) => l.includes('{{'));
      // a new line after the {{ greeting }} line with a tag that closes nothing
      await addLineAndSave(wb(), 'prompt.jinja2', target + 1, 'Also: {% endif %}');
      assert.strictEqual(fs.readFileSync(file, 'utf8').split('\n')[target + 1], 'Also: {% endif %}', 'saved');
      const problems = await wb().waitForProblems((ps) => ps.some((p) => p.text.includes('prompt.jinja2') || /endif/.test(p.text)), 60_000);
      const row = problems.find((p) => /endif/.test(p.text))?.text ?? '';
      assert.match(row, new RegExp(`\\bline ${target + 2}\\b`, 'i'), `on the new line: ${row}`);
      const shown = (await problemTexts(wb())).find((t) => /endif/.test(t)) ?? '';
      assert.match(shown, /JinjaParsingError/, `the row shows the prompt flow code: ${shown}`);
      await deleteLineAndSave(wb());
      assert.strictEqual(fs.readFileSync(file, 'utf8').replace(/\n$/, ''), good.replace(/\n$/, ''));
      await wb().waitForProblems((ps) => !ps.some((p) => /endif/.test(p.text)), 60_000);
    });
  });

  describe('without an engine', () => {
    const wb = useWorkbench(() => ({
      folder: path.join(REPO_ROOT, 'samples', 'hello-flow'),
      label: 'sessions-ui-noengine',
      settings: { 'flowsession.dockerHost': 'unix:///nonexistent/flowsession-e2e.sock' },
    }));

    it('shows the "engine unreachable" welcome view with Retry', async () => {
      await wb().openActivityBarItem('Flow Sessions');
      const pane = wb().view('Sessions');
      const welcome = pane.locator('.welcome-view', { hasText: 'could not be reached' });
      await welcome.waitFor({ state: 'visible', timeout: 60_000 });
      await pane.locator('.welcome-view a, .welcome-view .monaco-button', { hasText: 'Retry' }).first().waitFor({ state: 'visible' });
      // what failed: the welcome's wording follows the error kind (here: nothing listens at that address)
      await pane.locator('.welcome-view', { hasText: 'not running, or not at the configured address' }).waitFor({ state: 'visible' });
      await pane.locator('.welcome-view', { hasText: 'Show What Failed' }).waitFor({ state: 'visible' });
    });
  });
});
