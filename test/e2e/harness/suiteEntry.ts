/**
 * The `extensionTestsPath` entry of every mode A suite (compiled next to the suite's tests as index.js):
 * runs mocha 10 over the *.test.js files of its own folder. The same module works with
 * @vscode/test-electron's runTests where VS Code can be downloaded.
 *   FLOWSESSION_E2E_GREP         only tests whose title matches
 *   FLOWSESSION_E2E_TEST_TIMEOUT_MS  per-test timeout (default 120 s)
 */
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';
import { EXT_HOST_MARK, SUITE_DONE_MARK } from './marks';

function testFiles(dir: string): string[] {
  const found: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) found.push(...testFiles(p));
    else if (e.name.endsWith('.test.js')) found.push(p);
  }
  return found.sort();
}

/**
 * Marks mocha's reporter output for the harness (see marks.ts). The extension host's console methods are
 * accessors that ignore assignment, so the reporter's own log function is wrapped instead; a test's own
 * console output is unmarked and goes to the run's tests.log only.
 */
function markReporter(): void {
  if (!process.env.FLOWSESSION_E2E_HARNESS) return;
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  const original = base.consoleLog;
  base.consoleLog = (...args: unknown[]) => {
    if (typeof args[0] === 'string') original(EXT_HOST_MARK + args[0], ...args.slice(1));
    else original(EXT_HOST_MARK, ...args);
  };
}

export function run(): Promise<void> {
  markReporter();
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    color: false,
    timeout: Number(process.env.FLOWSESSION_E2E_TEST_TIMEOUT_MS || 120_000),
    slow: 5_000,
  });
  if (process.env.FLOWSESSION_E2E_GREP) mocha.grep(process.env.FLOWSESSION_E2E_GREP);
  const files = testFiles(__dirname);
  for (const f of files) mocha.addFile(f);
  return new Promise((resolve, reject) => {
    try {
      mocha.run((failures) => {
        (Mocha.reporters.Base as unknown as { consoleLog: (...a: unknown[]) => void }).consoleLog(
          `${SUITE_DONE_MARK} ${failures} failure(s) in ${files.length} file(s)`,
        );
        if (failures > 0) reject(new Error(`${failures} test(s) failed`));
        else resolve();
      });
    } catch (e) {
      console.error(e);
      reject(e);
    }
  });
}
