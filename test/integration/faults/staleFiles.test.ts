/**
 * Faults: the flow folder changes under a running session (deletions, renames, a dropped include): after the next
 * sync the session holds exactly the flow's files. Anything left behind counts in the suite's "data lost" figure.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { fault, recordStale } from '../../support/faults/tally';
import { HELLO_FLOW } from '../../support/flows/fixtures';
import { FlowJar } from '../../support/flows/flowJar';
import { testServices } from '../../support/world/manager';
import type { CoreServices } from '../../../src/core/services';

/** The files under a folder, relative, as the session lays them out. */
function localFiles(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.name === '.promptflow' || e.name === '__pycache__') return [];
    return e.isDirectory() ? localFiles(dir, r) : [r];
  });
}

describe('faults: the flow folder changes under its session', function () {
  // the cases change the folders on purpose: not the guarded jar, whose folders must stay as made
  const jar = new FlowJar({ prefix: 'flowsession-fault-stale-' });
  let services: CoreServices;

  before(() => {
    services = testServices();
  });
  after(async () => {
    await jar.dispose([services.manager]);
  });

  async function sessionFiles(dir: string): Promise<string[]> {
    const status = await services.manager.status(dir);
    const r = await services.engine.exec(status.container!, ['find', '/flow', '-type', 'f', '-printf', '%P\\n']);
    assert.strictEqual(r.exitCode, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  }

  async function expectExactly(dir: string, expected: string[]): Promise<void> {
    const held = await sessionFiles(dir);
    recordStale(
      dir,
      held.filter((f) => !expected.includes(f)),
    );
    assert.deepStrictEqual(held, [...expected].sort());
  }

  it('a file deleted, a folder renamed and an include dropped leave the session at the next sync', async () => {
    await fault('deletions, renames and dropped includes reach the session', async () => {
      const include = 'additional_includes:\n- shared/common.py\n';
      const dir = jar.make({
        ...HELLO_FLOW,
        'flow.dag.yaml': HELLO_FLOW['flow.dag.yaml'] + include,
        'old_helper.py': 'X = 1\n',
        'notes/readme.txt': 'notes',
        'shared/common.py': 'C = 1\n',
      });
      await services.validator.validate(dir, { session: 'start' });
      await expectExactly(dir, [...localFiles(dir), 'common.py']);

      fs.rmSync(path.join(dir, 'old_helper.py'));
      fs.renameSync(path.join(dir, 'notes'), path.join(dir, 'docs'));
      fs.writeFileSync(path.join(dir, 'flow.dag.yaml'), HELLO_FLOW['flow.dag.yaml']);
      await services.validator.validate(dir, { session: 'start' });
      await expectExactly(dir, localFiles(dir));
    });
  });

  it('a run after a deletion does not find the deleted module in the session', async () => {
    await fault('a deleted module is not importable in the session', async () => {
      const dir = jar.make({ ...HELLO_FLOW, 'gone.py': 'VALUE = 1\n' });
      await services.validator.validate(dir, { session: 'start' });
      fs.rmSync(path.join(dir, 'gone.py'));
      const record = await services.runs.run(dir);
      assert.strictEqual(record.status, 'Completed', JSON.stringify(record.error));
      const status = await services.manager.status(dir);
      const r = await services.engine.exec(status.container!, ['python3', '-c', 'import sys; sys.path.insert(0, "/flow"); import gone']);
      assert.notStrictEqual(r.exitCode, 0, 'gone.py is still importable in the session');
      await expectExactly(dir, localFiles(dir));
    });
  });
});
