/**
 * Mode B: the packaged extension in code-server, driven through Chromium like a person would (E2E.md, B).
 * Every helper waits for the workbench's readiness marks first (pressing F1 before them was the one source
 * of flakiness seen) and for what it acted on to show.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { openBrowser, type BrowserSession } from './browser';
import { makeRunDir } from './paths';
import { startCodeServer, type CodeServer } from './server';
import { installVsix, packagedExtension } from './vsix';
import { copyWorkspace } from './workspace';
import { waitUntil } from '../../support/waiting';

export interface WorkbenchOptions {
  /** folder to open; copied into the run folder unless inPlace */
  folder: string;
  inPlace?: boolean;
  /** run folder label (default "ui") */
  label?: string;
  /** a .vsix to install; default: the repo's extension packaged once per process; false: none */
  vsix?: string | false;
  /** extra user settings */
  settings?: Record<string, unknown>;
  /** extra environment of code-server and its extension host */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export interface Problem {
  /** the row's aria-label: severity, message, position, source */
  text: string;
}

const READY_MARKS = ['code/LifecyclePhase/Restored', 'code/didLoadExtensions'];

export class Workbench {
  private constructor(
    readonly page: Page,
    readonly server: CodeServer,
    private readonly browser: BrowserSession,
    readonly runDir: string,
    /** the opened folder (a copy in the run folder unless inPlace) */
    readonly folder: string,
  ) {}

  static async open(o: WorkbenchOptions): Promise<Workbench> {
    const runDir = makeRunDir(o.label ?? 'ui');
    const folder = o.inPlace ? path.resolve(o.folder) : copyWorkspace(o.folder, runDir);
    const extensionsDir = path.join(runDir, 'server', 'extensions');
    const vsix = o.vsix === undefined ? packagedExtension(runDir) : o.vsix;
    if (vsix) installVsix(vsix, extensionsDir, runDir);
    const server = await startCodeServer({ runDir, extensionsDir, settings: o.settings, env: o.env });
    let browser: BrowserSession | undefined;
    try {
      browser = await openBrowser(runDir);
      const consoleLog = fs.createWriteStream(path.join(runDir, 'browser.log'));
      browser.page.on('console', (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
      browser.page.on('pageerror', (e) => consoleLog.write(`[pageerror] ${e.message}\n`));
      const wb = new Workbench(browser.page, server, browser, runDir, folder);
      await browser.page.goto(`${server.url}/?folder=${encodeURIComponent(folder)}`, { waitUntil: 'domcontentloaded' });
      await wb.waitReady(o.readyTimeoutMs ?? 90_000);
      return wb;
    } catch (e) {
      await browser?.close();
      await server.stop();
      throw e;
    }
  }

  /** Waits for the workbench to be restored and its extensions loaded. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    await this.page.waitForFunction((marks) => marks.every((m) => performance.getEntriesByName(m).length > 0), READY_MARKS, {
      timeout: timeoutMs,
      polling: 100,
    });
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  }

  private quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** Opens the quick input (F1 for commands) and puts `value` in its box. */
  private async quickOpen(value: string): Promise<Locator> {
    await this.waitReady();
    const widget = this.quickInput();
    if (await widget.isVisible()) await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    await widget.waitFor({ state: 'visible' });
    await this.page.waitForFunction(() => !!document.activeElement?.closest('.quick-input-widget'));
    const input = widget.locator('.quick-input-box input');
    await input.fill(value);
    return widget;
  }

  /** The labels of the quick input's rows and the index of the focused one. */
  private async rowState(widget: Locator): Promise<{ labels: string[]; focused: number }> {
    return widget.locator('.monaco-list-row').evaluateAll((els) => ({
      labels: els.map((e) => (e.querySelector('.label-name')?.textContent ?? '').trim()),
      focused: els.findIndex((e) => e.classList.contains('focused')),
    }));
  }

  /**
   * Accepts the quick input row `match` selects: moves the focus to it with the arrow keys and presses
   * Enter (a mouse click on a row does not always accept it).
   */
  private async acceptRow(
    widget: Locator,
    match: (label: string, row: number) => Promise<boolean> | boolean,
    what: string,
    timeoutMs: number,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { labels, focused } = await this.rowState(widget);
      let target = -1;
      for (let i = 0; i < labels.length && target < 0; i++) if (await match(labels[i], i)) target = i;
      if (target >= 0 && focused >= 0) {
        const key = target > focused ? 'ArrowDown' : 'ArrowUp';
        for (let n = Math.abs(target - focused); n > 0; n--) await this.page.keyboard.press(key);
        const now = await this.rowState(widget);
        if (now.labels[now.focused] === labels[target]) {
          const typed = await widget.locator('.quick-input-box input').inputValue();
          await this.page.keyboard.press('Enter');
          // closed, or reused by what the pick opened (another quick input, e.g. a command asking a question)
          await this.page.waitForFunction((v) => {
            const w = document.querySelector('.quick-input-widget') as HTMLElement | null;
            const input = w?.querySelector('.quick-input-box input') as HTMLInputElement | null;
            return !w || w.style.display === 'none' || !w.offsetParent || (input !== null && input.value !== v);
          }, typed);
          return;
        }
      }
      await this.page.waitForTimeout(100);
    }
    const { labels } = await this.rowState(widget);
    await this.page.keyboard.press('Escape');
    throw new Error(`no quick input row for ${what} (rows: ${JSON.stringify(labels)})`);
  }

  /** Runs a command from the palette by its full title, e.g. "Flow Session: Show Logs". */
  async runCommand(title: string, timeoutMs = 20_000): Promise<void> {
    const widget = await this.quickOpen(`>${title}`);
    await this.acceptRow(widget, (label) => label === title, `the command "${title}"`, timeoutMs);
  }

  /**
   * Runs a command once its `when` clause shows it in the palette (for a context key the extension sets
   * after some work of its own): the palette is opened again until the row shows, within the limit.
   */
  async runCommandWhenShown(title: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.runCommand(title, 3_000);
        return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
    }
  }

  /**
   * Opens a file of the folder (relative path) via Quick Open, typing its absolute path: Quick Open resolves
   * an absolute path through the file service, so a file made after its file search cache was filled still
   * shows (the simple file dialog, by contrast, said "The path does not exist" for listed files under load).
   * The whole pick is tried again while the row does not show, within the limit.
   */
  async openFile(relPath: string, timeoutMs = 60_000): Promise<void> {
    const base = path.basename(relPath);
    const abs = path.join(this.folder, relPath);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const widget = await this.quickOpen(abs);
      const rows = widget.locator('.monaco-list-row');
      try {
        await this.acceptRow(
          widget,
          async (label, i) => {
            if (label !== base) return false;
            const desc = (
              (await rows
                .nth(i)
                .locator('.label-description')
                .textContent()
                .catch(() => '')) ?? ''
            ).trim();
            const dir = path.dirname(relPath);
            return desc === '' || desc === path.dirname(abs) || dir === '.' || desc === dir || desc.endsWith(`/${dir}`);
          },
          `the file ${relPath}`,
          Math.min(10_000, Math.max(1_000, deadline - Date.now())),
        );
        break;
      } catch (e) {
        if (Date.now() >= deadline) throw e;
      }
    }
    await this.page
      .locator(`.tabs-container .tab.active[aria-label^="${base}"]`)
      .waitFor({ timeout: Math.max(5_000, deadline - Date.now()) });
    await this.focusEditor();
  }

  /**
   * Puts the keyboard focus into the active editor unless it is there: on the EditContext element when the
   * editor uses one (Chromium's default), otherwise on its textarea (focusing the textarea of an
   * EditContext editor would swallow the keys).
   */
  async focusEditor(): Promise<void> {
    const editor = this.page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.waitFor({ state: 'visible' });
    const inside = await editor.evaluate((e) => e.contains(document.activeElement));
    if (inside) return;
    const editContext = editor.locator('.native-edit-context');
    if (await editContext.count()) await editContext.first().focus();
    else await editor.locator('textarea').first().focus();
  }

  /** Types into the active editor (at the cursor). */
  async typeInEditor(text: string): Promise<void> {
    await this.focusEditor();
    await this.page.keyboard.type(text);
  }

  /** Saves the active editor (File: Save) and waits for its tab to be clean. */
  async save(): Promise<void> {
    await this.runCommand('File: Save');
    await this.page.locator('.tabs-container .tab.active.dirty').waitFor({ state: 'detached', timeout: 30_000 });
  }

  /** Opens an activity bar container by its title (not toggling it closed when already open). */
  async openActivityBarItem(title: string): Promise<Locator> {
    await this.waitReady();
    const link = this.page.locator(`.part.activitybar .action-item a[aria-label^="${title}"]`);
    await link.waitFor({ state: 'visible' });
    const item = this.page.locator('.part.activitybar .action-item', { has: this.page.locator(`a[aria-label^="${title}"]`) });
    const checked = (await item.getAttribute('class'))?.split(/\s+/).includes('checked');
    if (!checked) await link.click();
    const sidebar = this.page.locator('.part.sidebar');
    await sidebar.waitFor({ state: 'visible' });
    return sidebar;
  }

  /** A view's pane by its name, e.g. "Sessions". */
  view(name: string): Locator {
    return this.page.locator('.pane', { has: this.page.locator('.pane-header', { hasText: name }) });
  }

  /** The rows of a view (aria-labels, or text when none), once the view shows. */
  async viewRows(name: string): Promise<string[]> {
    const pane = this.view(name);
    await pane.waitFor({ state: 'visible' });
    return pane
      .locator('.monaco-list-row')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? e.textContent?.trim() ?? ''));
  }

  /** The Problems panel's rows (files and problems), after focusing it. */
  async problems(): Promise<Problem[]> {
    await this.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    const panel = this.page.locator('.markers-panel');
    await panel.waitFor({ state: 'visible' });
    const texts = await panel
      .locator('.monaco-list-row')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? e.textContent?.trim() ?? ''));
    return texts.map((text) => ({ text }));
  }

  /** Polls problems() until `predicate` holds; returns the last list. */
  async waitForProblems(predicate: (p: Problem[]) => boolean, timeoutMs = 30_000): Promise<Problem[]> {
    return waitUntil(
      'the problems to match',
      timeoutMs,
      async () => {
        const last = await this.problems();
        if (predicate(last)) return last;
        throw new Error(`problems were ${JSON.stringify(last.map((p) => p.text))}`);
      },
      250,
    );
  }

  /** The active webview's content (the first webview of a fresh profile takes about 2 s to be ready). */
  webviewFrame(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  }

  /** Notification toasts (visible only without the smoke-test driver: mode B). */
  notifications(): Locator {
    return this.page.locator('.notification-toast');
  }

  async notificationTexts(): Promise<string[]> {
    return this.notifications().evaluateAll((els) => els.map((e) => e.textContent?.trim() ?? ''));
  }

  /** The text shown by the Output view when the given channel is selected. */
  async outputChannel(): Promise<string | undefined> {
    const panel = this.page.locator('.part.panel');
    await panel.waitFor({ state: 'visible' });
    return panel.evaluate((p) => {
      const select = p.querySelector('select.monaco-select-box') as HTMLSelectElement | null;
      if (select) return select.options[select.selectedIndex]?.text;
      return p.querySelector('.output-channel-picker, .action-item .action-label[aria-label*="Output"]')?.textContent ?? undefined;
    });
  }

  /** Saves a full-page screenshot into the run folder; returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = path.join(this.runDir, 'screenshots', `${name.replace(/[^\w.-]+/g, '_').slice(0, 120)}.png`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await this.page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    return file;
  }

  async close(): Promise<void> {
    await this.browser.close();
    await this.server.stop();
  }
}
