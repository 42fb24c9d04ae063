import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { parse } from 'yaml';

const root = path.resolve(__dirname, '../../..');
const schema = JSON.parse(fs.readFileSync(path.join(root, 'schemas', 'flow.schema.json'), 'utf8'));

function flows(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...flows(p));
    else if (e.name === 'flow.dag.yaml') out.push(p);
  }
  return out;
}

describe('schemas/flow.schema.json', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);

  it('accepts the sample and every valid fixture flow', () => {
    const files = [...flows(path.join(root, 'samples')), ...flows(path.join(root, 'test', 'fixtures', 'flows', 'valid'))];
    assert.ok(files.length > 5);
    for (const f of files) {
      const ok = validate(parse(fs.readFileSync(f, 'utf8')));
      assert.ok(ok, `${path.relative(root, f)}: ${ajv.errorsText(validate.errors)}`);
    }
  });

  it('rejects unknown keys and node types', () => {
    assert.ok(!validate({ nodes: [{ name: 'a', type: 'bash' }] }));
    assert.ok(!validate({ nodez: [] }));
    assert.ok(!validate({ inputs: { x: { type: 'str' } } }));
  });

  it('is contributed for flow.dag.yaml', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.deepStrictEqual(pkg.contributes.yamlValidation[0].url, './schemas/flow.schema.json');
  });
});

describe('schemas/flow.flex.schema.json', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(root, 'schemas', 'flow.flex.schema.json'), 'utf8')));

  it('accepts prompt flow flex definitions and refuses what the static checks refuse', () => {
    assert.ok(validate(parse('$schema: https://x/Flow.schema.json\nentry: flow:ChatFlow\n')), ajv.errorsText(validate.errors));
    assert.ok(
      validate(parse('entry: pkg.mod:run\ninit:\n  model_config:\n    type: AzureOpenAIModelConfiguration\nsample:\n  inputs: {q: hi}\n')),
      ajv.errorsText(validate.errors),
    );
    assert.ok(!validate(parse('inputs: {}\n')), 'no entry');
    assert.ok(!validate(parse('entry: not an entry\n')));
    assert.ok(!validate(parse('entry: a:b\nentrypoint: c\n')));
  });

  it('is contributed for flow.flex.yaml', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.strictEqual(pkg.contributes.yamlValidation[1].url, './schemas/flow.flex.schema.json');
    assert.ok(pkg.contributes.yamlValidation[1].fileMatch.includes('**/flow.flex.yaml'));
  });
});
