import * as assert from 'assert';
import { parseInputValue } from '../../../src/shared/inputValue';

describe('parseInputValue: typed text to a flow input value', () => {
  it('reads text of each type as prompt flow expects', () => {
    const good: [string | undefined, string | boolean, unknown][] = [
      ['string', '  padded  ', '  padded  '],
      ['string', '', ''],
      ['string', '42', '42'],
      [undefined, '{"a": 1}', '{"a": 1}'],
      ['image', 'data.png', 'data.png'],
      ['int', ' 42 ', 42],
      ['int', '-7', -7],
      ['double', '1e3', 1000],
      ['double', ' .5 ', 0.5],
      ['double', '-3', -3],
      ['bool', false, false],
      ['bool', 'true', true],
      ['bool', 'False', false],
      ['list', '["x", 1]', ['x', 1]],
      ['list', ' [] ', []],
      ['object', '{"a": {"b": null}}', { a: { b: null } }],
    ];
    for (const [type, given, value] of good) {
      assert.deepStrictEqual(parseInputValue(type, given), { ok: true, value }, `${type}: ${String(given)}`);
    }
  });

  it('reads an image as written, or as the dict form when it is JSON', () => {
    assert.deepStrictEqual(parseInputValue('image', 'pics/a.png'), { ok: true, value: 'pics/a.png' });
    assert.deepStrictEqual(parseInputValue('image', 'data:image/png;base64,AAAA'), { ok: true, value: 'data:image/png;base64,AAAA' });
    assert.deepStrictEqual(parseInputValue('image', '{"data:image/png;path": "a.png"}'), {
      ok: true,
      value: { 'data:image/png;path': 'a.png' },
    });
    assert.strictEqual(parseInputValue('image', '{not json').ok, false);
  });

  it('says what is wrong with a value it cannot read', () => {
    const bad: [string, unknown][] = [
      ['int', '4.5'],
      ['int', ''],
      ['int', 'three'],
      ['int', '99999999999999999999'],
      ['int', true],
      ['double', ''],
      ['double', 'NaN'],
      ['double', 'Infinity'],
      ['double', '1,5'],
      ['double', '0x10'],
      ['bool', 'yes'],
      ['bool', ' true'],
      ['bool', 1],
      ['list', '{"a": 1}'],
      ['list', 'a, b'],
      ['object', '[1]'],
      ['object', 'null'],
      ['object', '{'],
      ['object', 'plain text'],
      ['string', 5],
      ['string', 'x'.repeat(256 * 1024 + 1)],
    ];
    for (const [type, given] of bad) {
      const r = parseInputValue(type, given);
      assert.strictEqual(r.ok, false, `${type} = ${String(given).slice(0, 30)}`);
      assert.ok(!r.ok && r.error.length > 0);
    }
  });
});
