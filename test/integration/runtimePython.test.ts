import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { packEntries, type ArchiveEntry } from '../../src/core/docker/archive';
import { testEngine, world } from '../support/world/world';

/** Every file of a folder (runtime/, tests included; a fixture folder) as archive entries under `prefix`. */
function folderEntries(dir: string, prefix: string): ArchiveEntry[] {
  const out: ArchiveEntry[] = [{ name: prefix }];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === '__pycache__') continue;
    const abs = path.join(dir, entry.name);
    const name = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...folderEntries(abs, name));
    else out.push({ name, content: fs.readFileSync(abs) });
  }
  return out;
}

describe("the session runtime's own Python tests, inside the base image", function () {
  it('pass as a non-root user in a hardened container', async () => {
    const engine = testEngine();
    const id = await engine.createContainer({
      image: world().baseImage,
      entrypoint: ['python3', '-c', 'import signal; signal.pause()'],
      cmd: [],
      user: '10001:10001',
      labels: { 'flowsession.test': world().runId },
      hardened: true,
      memoryMb: 1024,
    });
    try {
      await engine.startContainer(id);
      // the fixtures the runtime's tests read sit beside runtime/ as in the repository: the reference grammar table
      // and the connections flow under test/fixtures
      const fixtures = path.resolve(__dirname, '..', 'fixtures');
      const grammar: ArchiveEntry[] = [
        { name: 'test' },
        { name: 'test/fixtures' },
        { name: 'test/fixtures/referenceGrammar.json', content: fs.readFileSync(path.join(fixtures, 'referenceGrammar.json')) },
        ...folderEntries(path.join(fixtures, 'connections'), 'test/fixtures/connections'),
      ];
      await engine.putArchive(
        id,
        '/tmp',
        await packEntries([...folderEntries(path.resolve(__dirname, '..', '..', 'runtime'), 'runtime'), ...grammar], 10001, 10001),
      );
      const r = await engine.exec(id, ['python3', '-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], {
        workingDir: '/tmp/runtime',
        user: '10001:10001',
        env: ['HOME=/tmp', 'PYTHONDONTWRITEBYTECODE=1'],
      });
      assert.strictEqual(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
      const ran = /Ran (\d+) tests?/.exec(r.stderr);
      assert.ok(ran && Number(ran[1]) >= 50, `ran: ${ran?.[0]}`);
      assert.match(r.stderr, /\nOK/);
    } finally {
      await engine.removeContainer(id);
    }
  });
});
