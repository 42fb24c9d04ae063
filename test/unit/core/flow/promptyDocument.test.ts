import * as assert from 'assert';
import { analyzeFlexText } from '../../../../src/core/flow/flexDocument';
import { listProbe } from '../../../../src/core/flow/sources';
import { envNamesUsed, readFlowPayload } from '../../../../src/core/runs/flowPayload';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { analyzePromptyText, envNamesOf } from '../../../../src/core/flow/promptyDocument';

const at = (problems: { code: string; line: number; column: number; severity: string }[]) =>
  problems.map((p) => `${p.severity} ${p.code} ${p.line}:${p.column}`);

describe('prompty front matter checks, placed in the .prompty file', () => {
  const good = `---
name: Basic
model:
  api: chat
  configuration:
    type: azure_openai
    azure_deployment: gpt-35
    connection: aoai
  parameters:
    max_tokens: 128
inputs:
  question:
    type: string
sample:
  question: hi
---
system:
You help.
user:
{{question}}
`;

  it("accepts prompt flow's own example shape and splits front matter from template", () => {
    const a = analyzePromptyText(good, 'basic.prompty');
    assert.deepStrictEqual(a.problems, []);
    assert.strictEqual(a.templateLine, 17);
    assert.strictEqual(a.template.split('\n')[0], 'system:');
    assert.strictEqual((a.config?.model as { api: string }).api, 'chat');
  });

  it('takes blank lines before the front matter, as prompt flow does (its eval-checklist example starts so)', () => {
    const a = analyzePromptyText(`\n  \n${good}`, 'p.prompty');
    assert.deepStrictEqual(a.problems, []);
    assert.strictEqual(a.templateLine, 19);
    assert.strictEqual(a.template.split('\n')[0], 'system:');
    const b = analyzePromptyText(`\n${good.replace('  api: chat', '  api: chat\n  foo: 1')}`, 'p.prompty');
    assert.deepStrictEqual(at(b.problems), ['warning UnknownField 6:3'], 'positions count the blank line');
  });

  it('warns on unknown keys at the key, on the right line and column', () => {
    const a = analyzePromptyText(
      good.replace('name: Basic', 'name: Basic\nmodle: x').replace('    max_tokens', '    max_tokens: 1\n    tempreature: 0\n    ignored'),
      'p.prompty',
    );
    assert.deepStrictEqual(at(a.problems), ['warning UnknownField 3:1']);
    const b = analyzePromptyText(good.replace('  api: chat', '  api: chat\n  foo: 1'), 'p.prompty');
    assert.deepStrictEqual(at(b.problems), ['warning UnknownField 5:3']);
  });

  it('reports a model configuration without what its type needs', () => {
    const noDeployment = analyzePromptyText(good.replace('    azure_deployment: gpt-35\n', ''), 'p.prompty');
    assert.deepStrictEqual(at(noDeployment.problems), ['error FlowDefinitionError 5:3']);
    assert.match(noDeployment.problems[0].message, /azure_deployment/);
    const openai = analyzePromptyText(good.replace('type: azure_openai', 'type: openai'), 'p.prompty');
    assert.ok(openai.problems.some((p) => /needs 'model'/.test(p.message)));
    const badType = analyzePromptyText(good.replace('type: azure_openai', 'type: bedrock'), 'p.prompty');
    assert.deepStrictEqual(at(badType.problems), ['error FlowDefinitionError 6:11']);
    const both = analyzePromptyText(good.replace('    connection: aoai', '    connection: aoai\n    api_key: ${env:K}'), 'p.prompty');
    assert.deepStrictEqual(at(both.problems), ['error FlowDefinitionError 9:14']);
  });

  it('warns, without refusing, of a prompty whose configuration its loading code must give', () => {
    const noModel = analyzePromptyText('---\nname: Bare\n---\nuser:\n{{question}}\n', 'p.prompty');
    assert.deepStrictEqual(at(noModel.problems), ['warning FlowDefinitionError 2:1']);
    assert.match(noModel.problems[0].message, /Prompty\.load\(source, model=/);
    const noConfiguration = analyzePromptyText('---\nname: Bare\nmodel:\n  api: chat\n---\nuser:\n{{question}}\n', 'p.prompty');
    assert.deepStrictEqual(at(noConfiguration.problems), ['warning FlowDefinitionError 3:1']);
  });

  it('refuses a role line prompt flow does not accept, on its line in the file', () => {
    const a = analyzePromptyText(good.replace('user:\n{{question}}', '# human:\n{{question}}'), 'p.prompty');
    assert.deepStrictEqual(at(a.problems), ['error ChatAPIInvalidRole 19:3']);
  });

  it('reports front matter that is missing or not YAML', () => {
    assert.deepStrictEqual(at(analyzePromptyText('system:\nhi\n', 'p.prompty').problems), ['error FlowDefinitionError 1:1']);
    const yaml = analyzePromptyText('---\nmodel: [1,\n---\nuser:\nx\n', 'p.prompty');
    assert.strictEqual(yaml.problems[0].code, 'YamlParseError');
    assert.ok(yaml.problems[0].line >= 2);
  });

  it('lists the ${env:VAR} names it uses, and the ones prompt flow reads when no endpoint is given', () => {
    const config = { model: { configuration: { type: 'openai', model: 'm', api_key: '${env:MY_KEY}', base_url: '${env:MY_URL}' } } };
    assert.deepStrictEqual(envNamesOf(config), ['MY_KEY', 'MY_URL']);
    assert.deepStrictEqual(envNamesUsed({ model: { configuration: { type: 'azure_openai', azure_deployment: 'd' } } }), [
      'AZURE_OPENAI_ENDPOINT',
      'AZURE_OPENAI_API_KEY',
      'OPENAI_API_VERSION',
    ]);
    assert.deepStrictEqual(
      envNamesUsed({ model: { configuration: { type: 'azure_openai', azure_deployment: 'd', connection: 'c' } } }),
      [],
    );
  });
});

describe('flow.flex.yaml checks', () => {
  it('checks additional_includes as for DAG flows when given the folder', () => {
    const probe = listProbe(['main.py', 'lib/util.py']);
    const a = analyzeFlexText('entry: main:run\nadditional_includes:\n- lib\n- missing/thing.py\n', 'flow.flex.yaml', probe);
    assert.deepStrictEqual(
      a.problems.map((p) => `${p.code} ${p.line}:${p.column}`),
      ['FlowDefinitionError 4:3'],
    );
    assert.match(a.problems[0].message, /Unable to find additional include missing\/thing.py/);
  });

  it('finds the entry module and accepts the schema prompt flow writes', () => {
    const a = analyzeFlexText(
      '$schema: https://x/Flow.schema.json\nentry: pkg.flow:Chat\nsample:\n  inputs:\n    q: hi\n  init: ${file:init.json}\n',
    );
    assert.deepStrictEqual(a.problems, []);
    assert.strictEqual(a.entryModule, 'pkg/flow.py');
  });

  it('reports a missing or malformed entry and unknown keys with positions', () => {
    assert.deepStrictEqual(at(analyzeFlexText('inputs:\n  q:\n    type: string\n').problems), ['error FlowDefinitionError 1:1']);
    assert.deepStrictEqual(at(analyzeFlexText('entry: not an entry\n').problems), ['error FlowDefinitionError 1:8']);
    assert.deepStrictEqual(at(analyzeFlexText('entry: a:b\nentrypoint: c\n').problems), ['warning UnknownField 2:1']);
    assert.deepStrictEqual(at(analyzeFlexText('entry: a:b\ninit:\n  conn:\n    type: FooConnection\n').problems), [
      'error FlowDefinitionError 4:11',
    ]);
    assert.deepStrictEqual(at(analyzeFlexText('entry: a:b\nsample:\n  outputs: {}\n').problems), ['error FlowDefinitionError 3:3']);
  });
});

describe('what a request carries about a flow', () => {
  it('sends the .prompty files parsed and only the environment values they or the init values name', async () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-payload-')));
    try {
      fs.writeFileSync(path.join(dir, 'flow.flex.yaml'), 'entry: f:F\nsample:\n  init:\n    key: ${env:FROM_SAMPLE}\n');
      fs.mkdirSync(path.join(dir, 'prompts'));
      fs.writeFileSync(
        path.join(dir, 'prompts', 'a.prompty'),
        '---\nmodel:\n  configuration:\n    type: openai\n    model: m\n    api_key: ${env:FROM_PROMPTY}\n---\nuser:\nhi\n',
      );
      const env = { FROM_PROMPTY: 'p-1', FROM_SAMPLE: 's-1', FROM_INIT: 'i-1', UNRELATED: 'u-1' };
      const payload = await readFlowPayload({ dir, kind: 'flex', file: 'flow.flex.yaml' }, env, { k: '${env:FROM_INIT}' });
      assert.deepStrictEqual(Object.keys(payload.prompty), ['prompts/a.prompty']);
      assert.strictEqual(payload.prompty['prompts/a.prompty'].templateLine, 8);
      assert.deepStrictEqual(payload.envValues, { FROM_PROMPTY: 'p-1', FROM_SAMPLE: 's-1', FROM_INIT: 'i-1' });
      assert.deepStrictEqual(payload.problems, []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
