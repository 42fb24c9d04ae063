import * as assert from 'assert';
import { contextValueOf, describeState, isStateChange } from '../../../src/ui/stateView';

describe('stateView', () => {
  it('describes states with phase and outdated mark, and gives menu context values', () => {
    assert.strictEqual(describeState({ state: 'creating', phase: 'building', outdated: false }), 'creating: building');
    assert.strictEqual(describeState({ state: 'ready', outdated: true }), 'ready · outdated');
    assert.strictEqual(contextValueOf({ state: 'not-created', outdated: false }), 'flowsession.flow state:not-created');
    assert.strictEqual(contextValueOf({ state: 'ready', outdated: true }), 'flowsession.flow state:ready outdated');
  });
  it('ignores exec and copy events that do not change a session', () => {
    assert.ok(isStateChange('start'));
    assert.ok(isStateChange('phase:building'));
    assert.ok(!isStateChange('exec_start: python3 -m x'));
    assert.ok(!isStateChange('extract-to-dir'));
  });
});
