import * as assert from 'assert';
import { measureActivation } from '../support/activation';

describe('activation', function () {
  this.timeout(20000);
  it('registers the commands without touching the engine', function () {
    // how long it takes is a figure of `npm run bench` (activation), not a test
    const m = measureActivation(1);
    assert.ok(m.commands.includes('command flowsession.startSession'));
    // the flowsession debug type is the extension's own: configurations and an inline adapter
    for (const c of [
      'command flowsession.debugFlow',
      'command flowsession.debugNode',
      'debug configurations flowsession',
      'debug adapter flowsession',
    ])
      assert.ok(m.commands.includes(c), c);
    assert.ok(!m.connected, 'no engine connection during activation');
    assert.deepStrictEqual(m.bundleFiles, ['extension.js'], 'the engine client and the YAML parser load on first use, not at activation');
  });
});
