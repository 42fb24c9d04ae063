import * as assert from 'assert';
import { coerceInputs, fieldsFromFlow, initialValues, type InputField } from '../../../src/shared/inputsForm';

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
        ['picture', 'image'],
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
    // an image is a text field (a path, a URL, a data URI) that also takes prompt flow's dict form as JSON
    assert.strictEqual(byName('picture').declaredType, undefined);
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
