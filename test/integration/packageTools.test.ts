import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { json, runCli } from '../support/cli';
import { FlowJar } from '../support/flows/flowJar';
import { startOpenAiStub, stubConnectionsYaml, type OpenAiStub } from '../support/openaiStub';
import { testManager } from '../support/world/manager';
import { world } from '../support/world/world';

const SECRET = 'sk-test-9c1e2b7a5d30';
const TOKEN = 'tok-test-58be01f2';

/**
 * A flow of package tools: the test tool package fs-tools (runtime/tests/toolpkg, served by the loopback
 * wheelhouse and installed through requirements.txt) and promptflow-tools' embedding and GPT-4V tools, which
 * the runtime ships because promptflow-tools is not installed.
 */
function packageFlow(): Record<string, string> {
  return {
    'requirements.txt': `fs-tools==1.0.0\n# run ${world().runId}\n`,
    'flow.dag.yaml': `inputs:
  who:
    type: string
    default: ada
outputs:
  greeting:
    type: string
    reference: \${greet.output}
  loud:
    type: string
    reference: \${shout.output}
  count:
    type: object
    reference: \${count.output}
  vector:
    type: list
    reference: \${embed.output}
  seen:
    type: string
    reference: \${look.output}
nodes:
- name: greet
  type: python
  source: {type: package, tool: fs_tools.tools.greet}
  inputs:
    name: \${inputs.who}
    mode: fancy
    flourish: Oh
- name: shout
  type: python
  source: {type: package, tool: fs_tools.plain.shout}
  inputs:
    text: \${greet.output}
- name: count
  type: python
  source: {type: package, tool: fs_tools.tools.Counter.count}
  inputs:
    connection: tokens
    start: 41
    word: \${inputs.who}
- name: embed
  type: python
  source: {type: package, tool: promptflow.tools.embedding.embedding}
  inputs:
    connection: oai
    model: text-embedding-3-small
    input: \${inputs.who}
- name: look
  type: custom_llm
  source:
    type: package_with_prompt
    tool: promptflow.tools.aoai_gpt4v.AzureOpenAI.chat
    path: look.jinja2
  inputs:
    connection: aoai
    deployment_name: gpt-4v
    max_tokens: 100
    question: What is this?
    picture: pixel.png
`,
    'look.jinja2': '# system:\nYou describe images.\n# user:\n{{question}}\n![image]({{picture}})\n',
    'pixel.png': 'not really a png',
  };
}

describe('package tools in a session: a tool package from requirements, and the built-in promptflow-tools tools', function () {
  let stub: OpenAiStub;
  let connectionsFile: string;
  const jar = new FlowJar();

  before(async () => {
    stub = await startOpenAiStub(SECRET);
    connectionsFile = path.join(jar.make({}), 'connections.yaml');
    fs.writeFileSync(
      connectionsFile,
      stubConnectionsYaml(
        stub.url,
        `- name: tokens
  type: custom
  configs:
    region: here
  secrets:
    token: \${env:TEST_TOKEN}
`,
      ),
    );
  });

  after(async () => {
    const manager = testManager();
    await jar.dispose([manager]);
    manager.dispose();
    await stub.close();
  });

  it('validates the nodes against the tools, lists them under package in flow.tools.json, and runs them', async () => {
    const dir = jar.make(packageFlow());
    const env = { TEST_LLM_KEY: SECRET, TEST_TOKEN: TOKEN };
    const checked = await runCli(['validate', dir, '--json'], env);
    assert.strictEqual(checked.code, 0, checked.stderr + checked.stdout);
    assert.deepStrictEqual(json(checked), { result: 'Succeeded', errors: [] });
    const tools = JSON.parse(fs.readFileSync(path.join(dir, '.promptflow', 'flow.tools.json'), 'utf8')) as {
      code: Record<string, unknown>;
      package: Record<string, { package?: string; package_version?: string; class_name?: string; type: string }>;
    };
    assert.deepStrictEqual(Object.keys(tools.package).sort(), [
      'fs_tools.plain.shout',
      'fs_tools.tools.Counter.count',
      'fs_tools.tools.greet',
      'promptflow.tools.aoai_gpt4v.AzureOpenAI.chat',
      'promptflow.tools.embedding.embedding',
    ]);
    assert.strictEqual(tools.package['fs_tools.tools.greet'].package, 'fs-tools', 'metadata from the entry point');
    assert.strictEqual(tools.package['fs_tools.tools.greet'].package_version, '1.0.0');
    assert.strictEqual(tools.package['fs_tools.tools.Counter.count'].class_name, 'Counter');
    assert.strictEqual(tools.package['promptflow.tools.aoai_gpt4v.AzureOpenAI.chat'].type, 'custom_llm');

    const r = await runCli(['run', dir, '--connections', connectionsFile, '--json'], env);
    assert.strictEqual(r.code, 0, r.stderr);
    const outputs = json<{ outputs: Record<string, unknown> }>(r).outputs;
    assert.strictEqual(outputs.greeting, 'Oh Hello, ada');
    assert.strictEqual(outputs.loud, 'OH HELLO, ADA!');
    assert.deepStrictEqual(outputs.count, { word: 'ada', calls: 42, token_length: TOKEN.length });
    assert.deepStrictEqual(outputs.vector, [3, 0.5]);
    // the literal the template shows as an image is loaded as one: its bytes are no known format, so image/* as in prompt flow
    assert.match(String(outputs.seen), /^echo: .*What is this\?.*data:image\/\*;base64,/);
    const vision = stub.requests.find((q) => q.path.startsWith('/openai/deployments/gpt-4v/chat/completions'));
    assert.ok(vision, `requests: ${stub.requests.map((q) => q.path).join(', ')}`);
    assert.strictEqual(vision.headers['api-key'], SECRET);
    assert.strictEqual(vision.body.max_tokens, 100);
    assert.ok(!r.stdout.includes(TOKEN) && !r.stderr.includes(TOKEN), 'the custom connection secret never shows');
  });

  it('names the package of a tool the session lacks, on save and at run time alike', async () => {
    const dir = jar.make({
      'flow.dag.yaml': `inputs: {}
outputs: {}
nodes:
- name: search
  type: python
  source: {type: package, tool: promptflow.tools.serpapi.SerpAPI.search}
  inputs: {}
`,
    });
    const checked = await runCli(['validate', dir, '--json']);
    assert.strictEqual(checked.code, 1, checked.stderr);
    const errors = json<{ errors: { code: string; message: string }[] }>(checked).errors;
    assert.strictEqual(errors[0].code, 'PackageToolNotFoundError');
    assert.match(errors[0].message, /Package tool 'promptflow\.tools\.serpapi\.SerpAPI\.search' is not found.*'promptflow-tools'/);
    const r = await runCli(['run', dir, '--json']);
    assert.strictEqual(r.code, 1);
    assert.match(r.stdout + r.stderr, /PackageToolNotFoundError/);
  });
});
