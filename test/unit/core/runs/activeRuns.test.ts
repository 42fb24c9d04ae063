import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RunService } from '../../../../src/core/runs/runService';
import type { SessionManager } from '../../../../src/core/session/sessionManager';

const SAMPLE = path.join(__dirname, '../../../../samples/hello-flow');

/** A session manager whose session starts when the test says so; the run never reaches a runtime. */
function slowSessions(): { manager: SessionManager; ready(): void } {
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  const manager = {
    liveRuntime: () => undefined,
    up: async () => started,
    syncFlow: async () => undefined,
    runtime: async () => ({}),
  } as unknown as SessionManager;
  return { manager, ready };
}

describe('RunService active runs', () => {
  let flowDir: string;

  beforeEach(() => {
    flowDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-runs-')));
    fs.cpSync(SAMPLE, flowDir, { recursive: true });
  });

  afterEach(() => fs.rmSync(flowDir, { recursive: true, force: true }));

  it('lists a run from the moment it is asked for, and cancels it while its session is still starting', async () => {
    const { manager, ready } = slowSessions();
    const runs = new RunService(manager);
    let changes = 0;
    runs.onDidChangeActiveRuns(() => changes++);
    const record = runs.run(flowDir, { runId: 'r1' });
    assert.deepStrictEqual(runs.activeRuns(), [{ runId: 'r1', flowDir, kind: 'run' }]);
    assert.strictEqual(await runs.cancel('r1'), true);
    ready();
    assert.strictEqual((await record).status, 'Canceled');
    assert.deepStrictEqual(runs.activeRuns(), []);
    assert.strictEqual(changes, 2, 'one change when it started, one when it ended');
  });

  it("follows the caller's signal, and knows nothing of a run that is not under way", async () => {
    const { manager, ready } = slowSessions();
    const runs = new RunService(manager);
    const abort = new AbortController();
    const record = runs.run(flowDir, { runId: 'r2', signal: abort.signal });
    abort.abort();
    ready();
    assert.strictEqual((await record).status, 'Canceled');
    assert.strictEqual(await runs.cancel('r2'), false);
  });
});
