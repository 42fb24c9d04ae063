/**
 * `npm run test:desktop`: the extension-host suites of mode A (test/e2e/suite) in desktop VS Code, through
 * @vscode/test-electron's runTests, wherever VS Code can be downloaded (a developer's laptop, a CI with
 * internet; on Linux without a display, under xvfb-run). Where it cannot be downloaded, this fails at once
 * and says so, before anything else is set up: `npm test` runs the same suites in code-server.
 *   FLOWSESSION_DESKTOP_VSCODE   the VS Code version (default: stable)
 */
import * as path from 'path';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import { mochaGlobalSetup, mochaGlobalTeardown, world } from '../../support/world/world';
import { compileSuite } from './compile';
import { passedEnv } from './hostEnv';
import { makeRunDir, REPO_ROOT } from './paths';
import { copyWorkspace } from './workspace';

const log = (m: string) => process.stderr.write(`[e2e desktop] ${m}\n`);

async function download(): Promise<string | undefined> {
  const version = process.env.FLOWSESSION_DESKTOP_VSCODE || 'stable';
  try {
    return await downloadAndUnzipVSCode({ version, timeout: 15_000, cachePath: path.join(REPO_ROOT, '.vscode-test') });
  } catch (e) {
    log(`VS Code ${version} cannot be downloaded on this machine: ${e instanceof Error ? e.message : String(e)}`);
    log(
      'test:desktop needs desktop VS Code; `npm test` runs the same suites in the code-server host, which installs from the npm registry.',
    );
    return undefined;
  }
}

async function main(): Promise<number> {
  const vscodeExecutablePath = await download();
  if (!vscodeExecutablePath) return 2;
  const suite = path.join(REPO_ROOT, 'test', 'e2e', 'suite');
  const entry = await compileSuite(suite, path.join(REPO_ROOT, 'dist', 'e2e', 'desktop'));
  const runDir = makeRunDir('desktop');
  const folder = copyWorkspace(path.join(REPO_ROOT, 'samples', 'hello-flow'), runDir);
  await mochaGlobalSetup();
  try {
    log(`VS Code: ${vscodeExecutablePath}; workspace: ${folder}`);
    return await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: entry,
      extensionTestsEnv: { ...passedEnv(), ...world().env },
      launchArgs: [
        folder,
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        `--user-data-dir=${path.join(runDir, 'user-data')}`,
        `--extensions-dir=${path.join(runDir, 'extensions')}`,
      ],
    });
  } catch (e) {
    log(`the suites failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    await mochaGlobalTeardown();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    log(e instanceof Error ? e.message : String(e));
    process.exit(2);
  },
);
