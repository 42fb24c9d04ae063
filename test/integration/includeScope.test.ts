/**
 * additional_includes and symlinks that lead out of the include scope: an error on the entry's line, in process and
 * from the CLI, and nothing of them in the session, while an include inside an allowed root is copied.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { configureIncludeRoots, includeRootsConfig, type IncludeRootsConfig } from '../../src/core/flow/includeScope';
import type { RunService } from '../../src/core/runs/runService';
import type { SessionManager } from '../../src/core/session/sessionManager';
import type { FlowValidator } from '../../src/core/validation/flowValidator';
import { json, runCli } from '../support/cli';
import { FlowJar } from '../support/flows/flowJar';
import { HELLO_FLOW, makeFlow } from '../support/flows/fixtures';
import { within } from '../support/waiting';
import { testServices } from '../support/world/manager';

interface CliProblem {
  code: string;
  line: number;
  message: string;
}

describe('includes outside the include scope', function () {
  this.timeout(300_000);
  let manager: SessionManager;
  let validator: FlowValidator;
  let runs: RunService;
  let saved: IncludeRootsConfig;
  const jar = new FlowJar({ prefix: 'flowsession-include-' });
  const home = makeFlow({ '.ssh/id_rsa': 'BEGIN PRIVATE KEY flowsession-test', 'notes/todo.txt': 'not a secret' });
  const shared = makeFlow({ 'lib/util.txt': 'shared and allowed' });

  before(() => {
    ({ manager, validator, runs } = testServices());
    saved = includeRootsConfig();
    configureIncludeRoots({ home, extraRoots: [shared] });
  });

  after(async () => {
    configureIncludeRoots(saved);
    await jar.dispose([manager]);
    manager.dispose();
    for (const d of [home, shared]) fs.rmSync(d, { recursive: true, force: true });
  });

  /** A flow whose includes are `entries`, with a symlink `keys` to the home's .ssh; returns it and each entry's line. */
  function hostileFlow(entries: string[]): { dir: string; lineOf: (entry: string) => number } {
    const yaml = `${HELLO_FLOW['flow.dag.yaml']}additional_includes:\n${entries.map((e) => `- ${e}\n`).join('')}`;
    const dir = jar.make({ ...HELLO_FLOW, 'flow.dag.yaml': yaml });
    fs.symlinkSync(path.join(home, '.ssh'), path.join(dir, 'keys'));
    const lines = yaml.split('\n');
    return { dir, lineOf: (entry) => lines.indexOf(`- ${entry}`) + 1 };
  }

  it('fails validate on the entry, copies nothing of it into the session, and refuses to run', async () => {
    const entries = ['../../../../etc/passwd', 'keys', path.join(home, '.ssh', 'id_rsa'), path.join(shared, 'lib')];
    const { dir, lineOf } = hostileFlow(entries);
    const report = await within('validate with a session', 240_000, validator.validate(dir, { session: 'start' }));
    assert.strictEqual(report.sessionChecked, true);
    const refused = report.problems.filter((p) => p.code === 'InvalidAdditionalInclude');
    assert.deepStrictEqual(
      refused.map((p) => p.line),
      entries.slice(0, 3).map(lineOf),
      JSON.stringify(report.problems),
    );
    assert.match(refused[0].message, /\/etc\/passwd.*flowsession\.allowedIncludeRoots/);

    const status = await manager.status(dir);
    const listing = await manager.engine.exec(status.container!, ['find', '/flow', '-print']);
    const paths = listing.stdout.split('\n').filter(Boolean).sort();
    assert.ok(paths.includes('/flow/lib/util.txt'), `the allowed include is there: ${paths.join(' ')}`);
    for (const name of ['passwd', 'keys', 'id_rsa', '.ssh']) {
      assert.ok(!paths.some((p) => path.posix.basename(p) === name), `${name} is not in the session: ${paths.join(' ')}`);
    }
    const leaked = await manager.engine.exec(status.container!, ['grep', '-r', '-l', '-e', 'PRIVATE KEY', '-e', 'root:x:0', '/flow']);
    assert.strictEqual(leaked.stdout.trim(), '', `files holding host secrets: ${leaked.stdout}`);

    const record = await within('a refused run', 60_000, runs.run(dir));
    assert.strictEqual(record.status, 'Failed');
    assert.strictEqual(record.error?.code, 'InvalidAdditionalInclude');
  });

  it('is reported the same by the CLI, and a root the user lists opens exactly that folder', async () => {
    const { dir, lineOf } = hostileFlow(['../../../../etc/passwd', path.join(shared, 'lib')]);
    const refused = await runCli(['validate', dir, '--static', '--json'], {});
    assert.strictEqual(refused.code, 1, refused.stderr);
    const errors = json<{ errors: CliProblem[] }>(refused).errors;
    assert.deepStrictEqual(
      errors.map((e) => `${e.code}@${e.line}`),
      [
        `InvalidAdditionalInclude@${lineOf('../../../../etc/passwd')}`,
        `InvalidAdditionalInclude@${lineOf(path.join(shared, 'lib'))}`,
        // the CLI's scope is the flow folder here (no git repository, not run from a folder that holds it)
        'SymlinkOutsideScope@1',
      ],
    );
    assert.match(errors[2].message, /The symlink keys of the flow folder points to .*\.ssh, outside the workspace folder/);
    assert.match(errors[1].message, /FLOWSESSION_ALLOWED_INCLUDE_ROOTS/);
    const allowed = await runCli(['validate', dir, '--static', '--json'], {
      FLOWSESSION_ALLOWED_INCLUDE_ROOTS: `/${path.delimiter}${shared}`,
    });
    assert.deepStrictEqual(
      json<{ errors: CliProblem[] }>(allowed).errors.map((e) => `${e.code}@${e.line}`),
      [`InvalidAdditionalInclude@${lineOf('../../../../etc/passwd')}`],
      'listing / does not open /etc',
    );
  });
});
