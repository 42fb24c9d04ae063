import * as assert from 'assert';
import { measureActivation } from '../support/activation';

describe('activation', function () {
  this.timeout(20000);
  it('registers the commands without touching the engine', function () {
    // how long it takes is a figure of `npm run bench` (activation), not a test
    const m = measureActivation(1);
    assert.ok(m.commands.includes('command flowsession.startSession'));
    assert.ok(!m.connected, 'no engine connection during activation');
    assert.deepStrictEqual(m.bundleFiles, ['extension.js'], 'the engine client and the YAML parser load on first use, not at activation');
  });
});
