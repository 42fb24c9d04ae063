import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { json, runCli } from '../support/cli';
import { FlowJar } from '../support/flows/flowJar';
import { testManager } from '../support/world/manager';
import { world } from '../support/world/world';

const SECRET = 'sk-conn-it-7d41e9b02c';
const SHA = crypto.createHash('sha256').update(SECRET).digest('hex');
const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'connections');

/**
 * The fixture flow (a python tool taking every connection type and a custom strong type of the flow's own
 * code) plus a node of the test tool package fs-tools (served by the loopback wheelhouse) whose tool takes the
 * package's own strong type, VaultConnection.
 */
function connectionsFlow(): Record<string, string> {
  const dag = fs.readFileSync(path.join(FIXTURE, 'flow.dag.yaml'), 'utf8');
  return {
    'requirements.txt': `fs-tools==1.0.0\n# run ${world().runId}\n`,
    'conns.py': fs.readFileSync(path.join(FIXTURE, 'conns.py'), 'utf8'),
    'flow.dag.yaml':
      dag.replace('outputs:\n', 'outputs:\n  vault:\n    type: object\n    reference: ${unlock.output}\n') +
      `- name: unlock
  type: python
  source: {type: package, tool: fs_tools.secure.unlock}
  inputs:
    connection: vault
    door: front
    token_sha256: \${inputs.secret_sha256}
`,
  };
}

/** Every file under a folder, read as text. */
function filesUnder(dir: string): [string, string][] {
  const out: [string, string][] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) {
      const full = path.join(e.parentPath, e.name);
      out.push([full, fs.readFileSync(full, 'utf8')]);
    }
  }
  return out;
}

describe("connections: prompt flow's connection files, every type, custom strong types, in a real session", function () {
  const jar = new FlowJar();
  let vaultFile: string;
  const env = { FS_TEST_SECRET: SECRET };

  before(() => {
    vaultFile = path.join(jar.make({}), 'vault.yml');
    fs.writeFileSync(
      vaultFile,
      `$schema: https://azuremlschemas.azureedge.net/promptflow/latest/CustomStrongTypeConnection.schema.json
name: vault
type: custom
custom_type: VaultConnection
module: fs_tools.secure
package: fs-tools
package_version: 1.0.0
configs:
  region: west
secrets:
  token: \${env:FS_TEST_SECRET}
`,
    );
  });

  after(async () => {
    const manager = testManager();
    await jar.dispose([manager]);
    manager.dispose();
  });

  it('gives a python tool each connection type as prompt flow does, and keeps the secret out of every result file', async () => {
    const dir = jar.make(connectionsFlow());
    const folder = path.join(FIXTURE, 'connections');
    const conns = ['--connections', folder, '--connections', vaultFile];

    // without the vault the validator knows a node names a connection runs would not get: an error on its line
    const partial = await runCli(['validate', dir, '--connections', folder, '--json'], env);
    assert.strictEqual(partial.code, 1, partial.stderr + partial.stdout);
    const errors = json<{ errors: { code: string; line: number; message: string }[] }>(partial).errors;
    const dag = fs.readFileSync(path.join(dir, 'flow.dag.yaml'), 'utf8').split('\n');
    assert.deepStrictEqual(
      errors.map((e) => [e.code, e.line]),
      [['ConnectionNotFound', dag.findIndex((l) => l.includes('connection: vault')) + 1]],
    );
    const checked = await runCli(['validate', dir, ...conns, '--json'], env);
    assert.deepStrictEqual(json(checked), { result: 'Succeeded', errors: [] });

    const r = await runCli(['run', dir, ...conns, '--inputs', `secret_sha256=${SHA}`, '--json'], env);
    assert.strictEqual(r.code, 0, r.stderr + r.stdout);
    const { report, vault } = json<{ outputs: { report: Record<string, Record<string, unknown>>; vault: Record<string, unknown> } }>(
      r,
    ).outputs;
    assert.deepStrictEqual(Object.keys(report).sort(), [
      'aoai',
      'custom',
      'forms',
      'local',
      'oai',
      'qdrant',
      'safety',
      'search',
      'serp',
      'serverless',
      'services',
      'weaviate',
    ]);
    for (const [k, v] of Object.entries(report)) {
      assert.strictEqual(v.key_arrived, true, `${k}: the secret arrived`);
      assert.strictEqual(v.attribute_key_arrived, true, `${k}: as an attribute too`);
    }
    assert.deepStrictEqual(report.aoai, {
      class: 'AzureOpenAIConnection',
      name: 'my_aoai',
      api_base: 'https://aoai.example',
      api_type: 'azure',
      api_version: '2023-03-15-preview',
      auth_mode: 'key',
      key_arrived: true,
      attribute_key_arrived: true,
    });
    assert.strictEqual(report.oai.base_url, 'https://oai.example/v1');
    assert.strictEqual(report.oai.organization, 'org-1');
    assert.strictEqual(report.safety.endpoint, 'https://safety.example');
    assert.strictEqual(report.forms.api_type, 'Form Recognizer');
    assert.strictEqual(report.search.api_version, '2023-07-01-Preview');
    assert.strictEqual(report.serverless.api_base, 'https://serverless.example');
    assert.strictEqual(report.services.endpoint, 'https://services.example');
    assert.strictEqual(report.weaviate.class, 'WeaviateConnection');
    assert.deepStrictEqual(report.custom.configs, { region: 'north' });
    assert.strictEqual(report.custom.attribute_config, 'north');
    assert.deepStrictEqual([report.local.class, report.local.api_base], ['LocalConnection', 'https://local.example']);
    assert.deepStrictEqual(vault, {
      class: 'VaultConnection',
      module: 'fs_tools.secure',
      region: 'west',
      door: 'front',
      configs_region: 'west',
      token_arrived: true,
      secret_keys: ['token'],
    });

    const b = await runCli(
      [
        'batch',
        dir,
        '--data',
        path.join(jar.make({ 'd.jsonl': `{"s": "${SHA}"}\n{"s": "other"}\n` }), 'd.jsonl'),
        '--column-mapping',
        'secret_sha256=${data.s}',
        ...conns,
        '--json',
      ],
      env,
    );
    assert.strictEqual(b.code, 0, b.stderr + b.stdout);
    for (const out of [r, b]) assert.ok(!out.stdout.includes(SECRET) && !out.stderr.includes(SECRET), 'no secret on the terminal');
    const leaks = filesUnder(path.join(dir, '.promptflow')).filter(([, text]) => text.includes(SECRET));
    assert.deepStrictEqual(
      leaks.map(([f]) => f),
      [],
      'no result file, run folder, log or trace holds the secret',
    );
  });

  it('refuses a connection file the CLI cannot use before any session work, naming the place and never the secret', async () => {
    const dir = jar.make({
      'bad.yml': 'name: k\ntype: open_ai\napi_key: "<user-input>"\n',
      'env.yml': 'name: e\ntype: serp\napi_key: ${env:FS_NOT_SET_VAR}\n',
    });
    const ask = await runCli(['run', dir, '--connections', path.join(dir, 'bad.yml')], env);
    assert.strictEqual(ask.code, 1);
    assert.match(ask.stderr, /bad\.yml:3:10: connection 'k' asks for `api_key` as "<user-input>"[\s\S]*\$\{env:SOME_VAR\}/);
    const missing = await runCli(['batch', dir, '--data', path.join(dir, 'bad.yml'), '--connections', path.join(dir, 'env.yml')], env);
    assert.strictEqual(missing.code, 1);
    assert.match(missing.stderr, /env\.yml:3:10: connection 'e' needs the environment variable FS_NOT_SET_VAR, which is not set/);
  });
});
