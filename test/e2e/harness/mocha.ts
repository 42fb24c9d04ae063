/**
 * Mode B with mocha: `const wb = useWorkbench({ folder })` inside a describe opens one workbench for the
 * describe (before), screenshots it on each failed test (next to the run's logs), and closes it (after).
 */
import { Workbench, type WorkbenchOptions } from './workbench';

export function useWorkbench(options: WorkbenchOptions | (() => WorkbenchOptions)): () => Workbench {
  let wb: Workbench | undefined;
  before(async function () {
    this.timeout(180_000);
    wb = await Workbench.open(typeof options === 'function' ? options() : options);
    process.stderr.write(`      [e2e] run folder: ${wb.runDir}\n`);
  });
  afterEach(async function () {
    if (wb && this.currentTest?.state === 'failed') {
      const file = await wb.screenshot(this.currentTest.fullTitle());
      // the run folder is kept: the workbench's console (browser.log) and the server's log (server.log) are there
      process.stderr.write(`      [e2e] screenshot: ${file}\n      [e2e] logs: ${wb.runDir}/browser.log, ${wb.runDir}/server.log\n`);
    }
  });
  after(async function () {
    this.timeout(30_000);
    await wb?.close();
    wb = undefined;
  });
  return () => {
    if (!wb) throw new Error('the workbench is not open (its before hook failed)');
    return wb;
  };
}
