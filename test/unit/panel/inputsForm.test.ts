import * as assert from 'assert';
import { coerceInput, coerceInputs, fieldsFromFlow, initialValues, type InputField } from '../../../src/webview/inputsForm';

const flow = {
  inputs: {
    name: { type: 'string', default: 'World' },
    excited: { type: 'bool', default: true },
    shy: { type: 'bool' },
    count: { type: 'int', default: 3 },
    ratio: { type: 'double', default: 0.5 },
    tags: { type: 'list', default: ['a', 'b'] },
    options: { type: 'object', default: { k: 1 }, description: 'extra options' },
    question: { type: 'string' },
    history: { type: 'list' },
    picture: { type: 'image' },
    untyped: {},
  },
};

describe('panel run form', () => {
  const fields = fieldsFromFlow(flow);
  const byName = (n: string) => fields.find((f) => f.name === n)!;

  it('makes one field per input, in order, with the defaults filled in', () => {
    assert.deepStrictEqual(
      fields.map((f) => [f.name, f.type]),
      [
        ['name', 'string'],
        ['excited', 'bool'],
        ['shy', 'bool'],
        ['count', 'int'],
        ['ratio', 'double'],
        ['tags', 'list'],
        ['options', 'object'],
        ['question', 'string'],
        ['history', 'list'],
        ['picture', 'string'],
        ['untyped', 'string'],
      ],
    );
    assert.deepStrictEqual(initialValues(fields), {
      name: 'World',
      excited: true,
      shy: false,
      count: '3',
      ratio: '0.5',
      tags: JSON.stringify(['a', 'b'], null, 2),
      options: JSON.stringify({ k: 1 }, null, 2),
      question: '',
      history: '[]',
      picture: '',
      untyped: '',
    });
    assert.strictEqual(byName('name').hasDefault, true);
    assert.strictEqual(byName('question').hasDefault, false);
    assert.strictEqual(byName('options').description, 'extra options');
    assert.strictEqual(byName('picture').declaredType, 'image');
  });

  it('copes with flows without inputs or with odd shapes', () => {
    assert.deepStrictEqual(fieldsFromFlow(undefined), []);
    assert.deepStrictEqual(fieldsFromFlow({ inputs: ['a'] }), []);
    assert.deepStrictEqual(
      fieldsFromFlow({ inputs: { 'bad name': { type: 'string' }, __proto__x: 'string' } }).map((f) => f.name),
      ['__proto__x'],
    );
    assert.strictEqual(fieldsFromFlow({ inputs: { b: { type: 'bool', default: 'true' } } })[0].initial, true);
  });

  it('coerces text to each type as prompt flow expects', () => {
    assert.deepStrictEqual(coerceInput(byName('name'), '  padded  '), { ok: true, value: '  padded  ' });
    assert.deepStrictEqual(coerceInput(byName('question'), ''), { ok: true, value: '' });
    assert.deepStrictEqual(coerceInput(byName('count'), ' 42 '), { ok: true, value: 42 });
    assert.deepStrictEqual(coerceInput(byName('count'), '-7'), { ok: true, value: -7 });
    assert.deepStrictEqual(coerceInput(byName('ratio'), '1e3'), { ok: true, value: 1000 });
    assert.deepStrictEqual(coerceInput(byName('excited'), false), { ok: true, value: false });
    assert.deepStrictEqual(coerceInput(byName('tags'), '["x", 1]'), { ok: true, value: ['x', 1] });
    assert.deepStrictEqual(coerceInput(byName('options'), '{"a": {"b": null}}'), { ok: true, value: { a: { b: null } } });
  });

  it('says what is wrong with a value it cannot coerce', () => {
    const bad: [string, unknown][] = [
      ['count', '4.5'],
      ['count', ''],
      ['count', 'three'],
      ['count', '99999999999999999999'],
      ['count', true],
      ['ratio', ''],
      ['ratio', 'NaN'],
      ['ratio', 'Infinity'],
      ['ratio', '1,5'],
      ['excited', 'true'],
      ['excited', 1],
      ['tags', '{"a": 1}'],
      ['tags', 'a, b'],
      ['options', '[1]'],
      ['options', 'null'],
      ['options', '{'],
      ['name', 5],
      ['name', 'x'.repeat(256 * 1024 + 1)],
    ];
    for (const [name, value] of bad) {
      const r = coerceInput(byName(name), value);
      assert.strictEqual(r.ok, false, `${name} = ${String(value).slice(0, 30)}`);
      assert.ok(!r.ok && r.error.length > 0);
    }
  });

  it('coerces a whole form and reports inputs the flow does not have', () => {
    const r = coerceInputs(fields, { name: 'Ada', count: '2', excited: false, tags: '[]', nope: 'x', ratio: 'x' });
    assert.deepStrictEqual(r.values, { name: 'Ada', count: 2, excited: false, tags: [] });
    assert.deepStrictEqual(Object.keys(r.errors).sort(), ['nope', 'ratio']);
  });

  it('leaves inputs that are not sent to the flow defaults', () => {
    const f: InputField[] = fieldsFromFlow({ inputs: { a: { type: 'int', default: 1 } } });
    assert.deepStrictEqual(coerceInputs(f, {}), { values: {}, errors: {} });
  });
});
