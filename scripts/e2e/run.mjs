#!/usr/bin/env node
// `npm run test:e2e`: install the tools (cached) → build → harness self-test (first run of a code-server
// version, or --selftest) → mode A suites (test/e2e/suite, in the extension host) → mode B UI tests
// (test/e2e/ui, mocha driving the packaged extension) → non-zero exit on any failure.
//   --selftest       run the harness self-test even when it passed before for this code-server version
//   --no-selftest    never run it
//   --only=a|b       run only mode A or only mode B
//   --no-build       use the existing dist/
// FLOWSESSION_E2E_GREP filters tests in both modes; run folders land in .e2e-runs/ (FLOWSESSION_E2E_RUNS).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { install } from './install.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = new Set(process.argv.slice(2));
const only = [...args].find((a) => a.startsWith('--only='))?.slice('--only='.length);
const env = { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1', TS_NODE_PROJECT: path.join(root, 'tsconfig.json') };
const log = (m) => process.stderr.write(`[e2e] ${m}\n`);
const results = [];

function step(name, cmd, argv) {
  const t0 = Date.now();
  log(`${name}: ${[cmd, ...argv].map((a) => path.relative(root, a) || a).join(' ')}`);
  const r = spawnSync(cmd, argv, { cwd: root, env, stdio: 'inherit' });
  const ok = r.status === 0;
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  results.push({ name, ok, secs, code: r.status ?? r.signal });
  log(`${name}: ${ok ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${secs} s`);
  return ok;
}

const hasTests = (dir, re) => fs.existsSync(dir) && fs.readdirSync(dir, { recursive: true }).some((f) => re.test(String(f)));
const node = process.execPath;
const tsNode = ['-r', 'ts-node/register/transpile-only'];
const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
const grep = process.env.FLOWSESSION_E2E_GREP ? ['--grep', process.env.FLOWSESSION_E2E_GREP] : [];

let paths;
try {
  const t0 = Date.now();
  paths = install();
  results.push({ name: 'install', ok: true, secs: ((Date.now() - t0) / 1000).toFixed(1) });
} catch (e) {
  log(`cannot install the end-to-end test tools: ${e.message}`);
  process.exit(1);
}

if (args.has('--no-build') || step('build', 'npm', ['run', 'build'])) {
  const stamp = path.join(paths.cache, '.selftest-ok');
  const selftest = !args.has('--no-selftest') && (args.has('--selftest') || !fs.existsSync(stamp));
  if (selftest) {
    if (step('harness self-test', node, [mocha, ...tsNode, '--timeout', '300000', '--slow', '30000', 'test/e2e/selftest/*.selftest.ts'])) {
      fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
    }
  }
  if (only !== 'b') {
    if (hasTests(path.join(root, 'test', 'e2e', 'suite'), /\.test\.ts$/)) {
      step('mode A (extension host suites)', node, [...tsNode, 'test/e2e/harness/cli.ts', 'test/e2e/suite', '--label', 'suite']);
    } else log('mode A: no test/e2e/suite/**/*.test.ts');
  }
  if (only !== 'a') {
    if (hasTests(path.join(root, 'test', 'e2e', 'ui'), /\.test\.ts$/)) {
      step('mode B (UI tests)', node, [mocha, ...tsNode, '--timeout', '300000', '--slow', '30000', ...grep, 'test/e2e/ui/**/*.test.ts']);
    } else log('mode B: no test/e2e/ui/**/*.test.ts');
  }
}

log('summary:');
for (const r of results) log(`  ${r.ok ? 'ok    ' : 'FAILED'} ${r.name} (${r.secs} s)`);
const failed = results.filter((r) => !r.ok);
log(failed.length ? `end-to-end tests FAILED: ${failed.map((r) => r.name).join(', ')}` : 'end-to-end tests passed');
process.exit(failed.length ? 1 : 0);
