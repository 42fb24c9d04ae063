import * as assert from 'assert';
import * as path from 'path';
import { readConnections, readConnectionsFile } from '../../../../src/core/runs/connectionsFile';
import { CONNECTION_TYPES } from '../../../../src/core/runs/connectionTypes';
import { isFlowSessionError } from '../../../../src/core/errors';
import { makeFlow } from '../../../support/flows/fixtures';

const SECRET = 'sk-unit-4f1d0c9e7a';

/** The error a read throws: its message and remedy, checked never to hold the secret. */
function failure(read: () => unknown): string {
  try {
    read();
  } catch (e) {
    assert.ok(isFlowSessionError(e), `a FlowSessionError, not ${String(e)}`);
    const text = `${e.message} ${e.remedy}`;
    assert.ok(!text.includes(SECRET), `the secret is never echoed: ${text}`);
    return text;
  }
  assert.fail('expected the read to fail');
}

describe('the connections file', () => {
  it('reads a connections file with secrets from the environment only', () => {
    const dir = makeFlow({
      'c.yaml':
        '- name: aoai\n  type: azure_open_ai\n  api_base: https://x.example\n  api_key: ${env:MY_KEY}\n- name: raw\n  type: custom\n  secrets:\n    token: ${env:MY_KEY}\n',
    });
    const c = readConnectionsFile(path.join(dir, 'c.yaml'), { MY_KEY: 'k-123' });
    assert.deepStrictEqual(c.aoai, { type: 'AzureOpenAIConnection', api_base: 'https://x.example', api_key: 'k-123' });
    assert.deepStrictEqual(c.raw, { type: 'CustomConnection', secrets: { token: 'k-123' } });
    assert.throws(() => readConnectionsFile(path.join(dir, 'c.yaml'), {}), /needs the environment variable MY_KEY/);
  });

  it("reads prompt flow's own connection files: one connection each, every type, $schema ignored", () => {
    const dir = makeFlow({
      'azure_openai.yml':
        '$schema: https://azuremlschemas.azureedge.net/promptflow/latest/AzureOpenAIConnection.schema.json\nname: my_aoai\ntype: azure_open_ai\napi_key: ${env:K}\napi_base: "https://r.openai.azure.com/"\napi_type: "azure"\napi_version: "2023-03-15-preview"\n',
      'openai.yml': 'name: my_oai\ntype: open_ai\napi_key: ${env:K}\norganization: "org"\n',
      'serp.yml': 'name: my_serp\ntype: serp\napi_key: ${env:K}\n',
      'search.yml':
        'name: my_search\ntype: cognitive_search\napi_key: ${env:K}\napi_base: "https://s"\napi_version: "2023-07-01-Preview"\n',
      'safety.yml':
        'name: my_safety\ntype: azure_content_safety\napi_key: ${env:K}\nendpoint: "https://cs"\napi_version: "2023-04-30-preview"\n',
      'forms.yml': 'name: my_forms\ntype: form_recognizer\napi_key: ${env:K}\nendpoint: "https://fr"\n',
      'serverless.yml': 'name: my_serverless\ntype: serverless\napi_key: ${env:K}\napi_base: "https://sl"\n',
      'services.yml': 'name: my_services\ntype: azure_ai_services\napi_key: ${env:K}\nendpoint: "https://ais"\n',
      'qdrant.yml': 'name: my_qdrant\ntype: qdrant\napi_key: ${env:K}\napi_base: "https://q"\n',
      'custom.yml':
        '$schema: https://azuremlschemas.azureedge.net/promptflow/latest/CustomConnection.schema.json\nname: custom_connection\ntype: custom\nconfigs:\n  key1: "test1"\nsecrets:\n  api-key: ${env:K}\n',
      'strong.yml':
        'name: my_strong\ntype: custom\ncustom_type: MyCustomConnection\nmodule: my_tool_package.connections\npackage: my-tools-package\npackage_version: 0.0.5\nconfigs:\n  api_base: "b"\nsecrets:\n  api_key: ${env:K}\n',
      'notes.txt': 'not a connection',
    });
    const c = readConnections([dir], { K: SECRET });
    assert.deepStrictEqual(Object.keys(c).sort(), [
      'custom_connection',
      'my_aoai',
      'my_forms',
      'my_oai',
      'my_qdrant',
      'my_safety',
      'my_search',
      'my_serp',
      'my_serverless',
      'my_services',
      'my_strong',
    ]);
    assert.deepStrictEqual(c.my_aoai, {
      type: 'AzureOpenAIConnection',
      api_key: SECRET,
      api_base: 'https://r.openai.azure.com/',
      api_type: 'azure',
      api_version: '2023-03-15-preview',
    });
    assert.deepStrictEqual(c.custom_connection, { type: 'CustomConnection', configs: { key1: 'test1' }, secrets: { 'api-key': SECRET } });
    assert.deepStrictEqual(c.my_strong, {
      type: 'CustomConnection',
      custom_type: 'MyCustomConnection',
      module: 'my_tool_package.connections',
      package: 'my-tools-package',
      package_version: '0.0.5',
      configs: { api_base: 'b' },
      secrets: { api_key: SECRET },
    });
    assert.strictEqual(c.my_safety.type, 'AzureContentSafetyConnection');
    assert.strictEqual(c.my_safety.endpoint, 'https://cs');
    assert.strictEqual(c.my_services.type, 'AzureAIServicesConnection');
    // every type of the table has a file type the reader knows
    for (const t of CONNECTION_TYPES) assert.ok(t.yamlType && t.className.endsWith('Connection'));
  });

  it('takes several files and folders, and refuses a name defined twice', () => {
    const a = makeFlow({ 'a.yaml': 'name: one\ntype: serp\napi_key: ${env:K}\n' });
    const b = makeFlow({ 'b.yaml': '- name: two\n  type: open_ai\n  api_key: ${env:K}\n', 'c.yml': 'name: one\ntype: serp\napi_key: x\n' });
    assert.deepStrictEqual(Object.keys(readConnections([path.join(a, 'a.yaml'), path.join(b, 'b.yaml')], { K: SECRET })).sort(), [
      'one',
      'two',
    ]);
    const text = failure(() => readConnections([path.join(a, 'a.yaml'), b], { K: SECRET }));
    assert.match(text, /Connection 'one' is defined twice: in .*a\.yaml and in .*c\.yml/);
    assert.match(
      failure(() => readConnections([makeFlow({ 'x.txt': '' })], {})),
      /no \.yaml or \.yml files/,
    );
    assert.match(
      failure(() => readConnections([path.join(a, 'missing.yaml')], {})),
      /not found/,
    );
  });

  it('places its errors (file:line:column) and never echoes a secret', () => {
    const dir = makeFlow({
      'type.yaml': `name: t\ntype: azure_openai_wrong\napi_key: ${SECRET}\n`,
      'missing.yaml': `- name: a\n  type: azure_open_ai\n  api_key: ${SECRET}\n`,
      'user.yaml': 'name: u\ntype: open_ai\napi_key: "<user-input>"\n',
      'userCustom.yaml': 'name: u\ntype: custom\nsecrets:\n  token: "<user-input>"\n',
      'env.yaml': 'name: e\ntype: serp\napi_key: ${env:NOT_SET_ANYWHERE}\n',
      'badref.yaml': 'name: e\ntype: serp\napi_key: ${env:HOME}${env:PATH}\n',
      'traversal.yaml': 'name: e\ntype: serp\napi_key: ${env:../../etc/passwd}\n',
      'yaml.yaml': `name: y\ntype: serp\napi_key: "${SECRET}\n  bad: [\n`,
      'dupkey.yaml': `name: y\ntype: serp\napi_key: ${SECRET}\napi_key: ${SECRET}\n`,
      'scalar.yaml': `just a string ${SECRET}\n`,
      'half.yaml': 'name: h\ntype: custom\ncustom_type: Mine\nsecrets: {}\n',
      'secretmap.yaml': `name: s\ntype: custom\nsecrets:\n  token:\n    nested: ${SECRET}\n`,
      'noname.yaml': `type: serp\napi_key: ${SECRET}\n`,
    });
    const read = (f: string) => failure(() => readConnectionsFile(path.join(dir, f), {}));
    assert.match(read('type.yaml'), /type\.yaml:2:7: connection 't' has the unknown type 'azure_openai_wrong'/);
    assert.match(read('type.yaml'), /azure_open_ai, open_ai, serp/);
    assert.match(read('missing.yaml'), /missing\.yaml:1:3: connection 'a' \(azure_open_ai\) has no `api_base`/);
    assert.match(read('user.yaml'), /user\.yaml:3:10: .*`api_key` as "<user-input>".*\$\{env:SOME_VAR\}/);
    assert.match(read('userCustom.yaml'), /userCustom\.yaml:4:10: .*`secrets\.token`/);
    assert.match(read('env.yaml'), /env\.yaml:3:10: connection 'e' needs the environment variable NOT_SET_ANYWHERE, which is not set/);
    assert.match(read('badref.yaml'), /badref\.yaml:3:10: .*not a valid \$\{env:NAME\} reference/);
    assert.match(read('traversal.yaml'), /not a valid \$\{env:NAME\} reference/);
    assert.match(read('yaml.yaml'), /yaml\.yaml:\d+:\d+: not valid YAML/);
    assert.match(read('dupkey.yaml'), /dupkey\.yaml:4:1: not valid YAML \(DUPLICATE_KEY\)/);
    assert.match(read('scalar.yaml'), /no connection in this file/);
    assert.match(read('half.yaml'), /half\.yaml:3:14: .*`custom_type` alone/);
    assert.match(read('secretmap.yaml'), /the secret `secrets\.token` must be a string/);
    assert.match(read('noname.yaml'), /needs a `name`/);
  });

  it('refuses an alias bomb and a huge file without reading them whole', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const dir = makeFlow({
      'bomb.yaml': `${bomb.join('\n')}\n`,
      'huge.yaml': `name: h\ntype: serp\napi_key: "${'x'.repeat(1100 * 1024)}"\n`,
    });
    const started = Date.now();
    assert.match(
      failure(() => readConnectionsFile(path.join(dir, 'bomb.yaml'), {})),
      /aliases too many times/,
    );
    assert.match(
      failure(() => readConnectionsFile(path.join(dir, 'huge.yaml'), {})),
      /too big for a connections file/,
    );
    assert.ok(Date.now() - started < 5000, 'both refused quickly');
  });

  it('keeps a secret written as a number as text, and configs as they are', () => {
    const dir = makeFlow({ 'n.yaml': 'name: n\ntype: custom\nconfigs:\n  port: 8080\nsecrets:\n  pin: 1234\n' });
    assert.deepStrictEqual(readConnectionsFile(path.join(dir, 'n.yaml'), {}).n, {
      type: 'CustomConnection',
      configs: { port: 8080 },
      secrets: { pin: '1234' },
    });
  });
});
