import * as assert from 'assert';

describe('harness self-test: failing suite', () => {
  it('passes', () => assert.ok(true));
  it('fails on purpose', () => assert.strictEqual(1 + 1, 3));
});
