/**
 * Self-test of mode B: a folder opens, built-in commands run from the palette, files open, edit and save,
 * the Problems panel and a webview read; and our real packaged extension's container, view and command show.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../harness/paths';
import { useWorkbench } from '../harness/mocha';

describe('harness self-test: mode B (UI)', () => {
  const wb = useWorkbench({ folder: path.join(REPO_ROOT, 'samples', 'hello-flow'), label: 'selftest-ui' });

  it('opens the folder', async () => {
    await wb().openActivityBarItem('Explorer');
    const rows = await wb().viewRows('hello-flow');
    assert.ok(rows.some((r) => r.includes('flow.dag.yaml')), JSON.stringify(rows));
  });

  it('runs a built-in command from the palette (toggle the status bar)', async () => {
    const bar = wb().page.locator('.part.statusbar');
    await bar.waitFor({ state: 'visible' });
    await wb().runCommand('View: Toggle Status Bar Visibility');
    await bar.waitFor({ state: 'hidden' });
    await wb().runCommand('View: Toggle Status Bar Visibility');
    await bar.waitFor({ state: 'visible' });
  });

  it('opens, edits and saves a file; the Problems panel shows and clears its problem', async () => {
    const file = path.join(wb().folder, 'data.json');
    fs.writeFileSync(file, '{}\n');
    await wb().openFile('data.json');
    await wb().page.keyboard.press('Control+A');
    await wb().typeInEditor('{"a": 1,, "b": 2}');
    await wb().save();
    assert.match(fs.readFileSync(file, 'utf8'), /"a": 1,,/);
    await wb().waitForProblems((ps) => ps.some((p) => /data\.json/.test(p.text)) && ps.some((p) => /Value expected/i.test(p.text)));
    await wb().openFile('data.json');
    await wb().page.keyboard.press('Control+A');
    await wb().typeInEditor('{"a": 1, "b": 2}');
    await wb().save();
    await wb().waitForProblems((ps) => !ps.some((p) => /data\.json/.test(p.text)));
  });

  it('reads a webview (Markdown preview)', async () => {
    fs.writeFileSync(path.join(wb().folder, 'notes.md'), '# Harness heading\n\nSome text.\n');
    await wb().openFile('notes.md');
    await wb().runCommand('Markdown: Open Preview');
    await wb().webviewFrame().locator('h1', { hasText: 'Harness heading' }).waitFor({ timeout: 30_000 });
  });

  it('shows our packaged extension: the Flow Sessions container, its Sessions view, its Show Logs command', async () => {
    await wb().openActivityBarItem('Flow Sessions');
    await wb().view('Sessions').waitFor({ state: 'visible' });
    await wb().runCommand('Flow Session: Show Logs');
    await wb().page.waitForFunction(() => {
      const select = document.querySelector('.part.panel select.monaco-select-box') as HTMLSelectElement | null;
      return select?.options[select.selectedIndex]?.text === 'Flow Session';
    }, null, { timeout: 15_000 });
  });
});
