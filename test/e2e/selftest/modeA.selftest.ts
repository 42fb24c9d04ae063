/** Self-test of mode A: a passing, a failing, a hanging and a host-ending suite each give their exit code. */
import * as assert from 'assert';
import * as path from 'path';
import { compileSuite } from '../harness/compile';
import { EXIT, runExtensionTests } from '../harness/extensionTests';
import { makeRunDir, REPO_ROOT } from '../harness/paths';
import { copyWorkspace } from '../harness/workspace';

const here = __dirname;
const cases: { suite: string; code: number; timeoutMs: number }[] = [
  { suite: 'pass', code: EXIT.passed, timeoutMs: 120_000 },
  { suite: 'fail', code: EXIT.failed, timeoutMs: 120_000 },
  { suite: 'hang', code: EXIT.timeout, timeoutMs: 25_000 },
  { suite: 'exit', code: EXIT.hostAbnormal, timeoutMs: 120_000 },
];

describe('harness self-test: mode A (extension host suites)', () => {
  for (const c of cases) {
    it(`a ${c.suite} suite exits with ${c.code}`, async function () {
      this.timeout(c.timeoutMs + 60_000);
      const runDir = makeRunDir(`selftest-${c.suite}`);
      const entry = await compileSuite(path.join(here, 'suites', c.suite), path.join(REPO_ROOT, 'dist', 'e2e', 'selftest', c.suite));
      const lines: string[] = [];
      const r = await runExtensionTests({
        runDir,
        extensionDevelopmentPath: path.join(here, 'fixture-ext'),
        extensionTestsPath: entry,
        folder: copyWorkspace(path.join(REPO_ROOT, 'samples', 'hello-flow'), runDir),
        env: { FLOWSESSION_E2E_SELFTEST: 'yes' },
        timeoutMs: c.timeoutMs,
        out: (l) => lines.push(l),
      });
      assert.strictEqual(r.code, c.code, `${r.reason}\n${lines.join('\n')}\n(run folder ${runDir})`);
      if (c.suite === 'pass')
        assert.ok(
          lines.some((l) => /3 passing/.test(l)),
          lines.join('\n'),
        );
      if (c.suite === 'fail')
        assert.ok(
          lines.some((l) => /1 failing/.test(l)),
          lines.join('\n'),
        );
    });
  }
});
