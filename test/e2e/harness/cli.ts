/**
 * Runs one mode A suite folder and exits with its result:
 *   node -r ts-node/register/transpile-only test/e2e/harness/cli.ts <suite dir> [options]
 *     --folder <dir>   workspace to open, copied into the run folder (default samples/hello-flow)
 *     --in-place       open --folder itself instead of a copy
 *     --dev <dir>      extensionDevelopmentPath (default the repo)
 *     --also <dir>     another extension, packaged from its folder and installed beside it (repeatable)
 *     --timeout <ms>   harness timeout (default $FLOWSESSION_E2E_TIMEOUT_MS or 20 min: the extension-host suites grew)
 *     --label <name>   run folder label
 * The extension host gets FLOWSESSION_* and DOCKER_* variables of this process (extensionEnvironment).
 * Exit codes: 0 passed, 1 tests failed, 2 harness error, 3 extension host ended abnormally, 4 timeout.
 */
import * as path from 'path';
import { compileSuite } from './compile';
import { EXIT, runExtensionTests } from './extensionTests';
import { passedEnv } from './hostEnv';
import { makeRunDir, REPO_ROOT } from './paths';
import { copyWorkspace } from './workspace';

function parse(argv: string[]) {
  const o = {
    suite: '',
    folder: path.join(REPO_ROOT, 'samples', 'hello-flow'),
    inPlace: false,
    dev: REPO_ROOT,
    also: [] as string[],
    timeout: undefined as number | undefined,
    label: '',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--folder') o.folder = path.resolve(next());
    else if (a === '--in-place') o.inPlace = true;
    else if (a === '--dev') o.dev = path.resolve(next());
    else if (a === '--also') o.also.push(path.resolve(next()));
    else if (a === '--timeout') o.timeout = Number(next());
    else if (a === '--label') o.label = next();
    else if (!a.startsWith('--') && !o.suite) o.suite = path.resolve(a);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.suite) throw new Error('usage: cli.ts <suite dir> [--folder dir] [--in-place] [--dev dir] [--timeout ms] [--label name]');
  return o;
}

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  const label = o.label || path.basename(o.suite);
  const runDir = makeRunDir(`suite-${label}`);
  const rel = path.relative(REPO_ROOT, o.suite);
  const entry = await compileSuite(o.suite, path.join(REPO_ROOT, 'dist', 'e2e', rel.startsWith('..') ? label : rel));
  const folder = o.inPlace ? o.folder : copyWorkspace(o.folder, runDir);
  process.stderr.write(`[e2e] mode A: ${rel} on ${folder}\n[e2e] run folder: ${runDir}\n`);
  const r = await runExtensionTests({
    runDir,
    extensionDevelopmentPath: o.dev,
    extraExtensions: o.also,
    extensionTestsPath: entry,
    folder,
    env: passedEnv(),
    timeoutMs: o.timeout,
  });
  const verdict = Object.entries(EXIT).find(([, c]) => c === r.code)?.[0] ?? String(r.code);
  process.stderr.write(`[e2e] ${rel}: ${verdict} (exit ${r.code}) in ${(r.durationMs / 1000).toFixed(1)} s: ${r.reason}\n`);
  return r.code;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`[e2e] ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(EXIT.harnessError);
  },
);
