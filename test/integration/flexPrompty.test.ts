import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { json, runCli } from '../support/cli';
import { scorerBatchArgs, scorerFlow } from '../support/flows/flexFixtures';
import { FlowJar } from '../support/flows/flowJar';
import { startStubWithConnections, STUB_PNG, type OpenAiStub } from '../support/openaiStub';
import { assertSecretNotInSession } from '../support/secretChecks';
import { testServices } from '../support/world/manager';
import type { SessionManager } from '../../src/core/session/sessionManager';
import { stubPrompty as prompty } from '../support/flows/fixtures';

const SECRET = 'sk-flex-7e3b1d9a5c22';

describe('flex flows and prompty in a session', function () {
  let stub: OpenAiStub;
  let manager: SessionManager;
  let connectionsFile: string;
  const jar = new FlowJar();

  before(async () => {
    ({ stub, connectionsFile } = await startStubWithConnections(SECRET, jar));
    ({ manager } = testServices());
  });

  after(async () => {
    await jar.dispose([manager]);
    manager.dispose();
    await stub.close();
  });

  it('runs a function flex flow from its folder, its inputs typed by the signature and defaulted by sample.inputs', async () => {
    const dir = jar.make({
      'flow.flex.yaml': 'entry: answer:repeat\nsample:\n  inputs:\n    text: hi\n',
      'answer.py': 'def repeat(text: str, times: int = 2) -> str:\n    print("repeating", text)\n    return text * times\n',
    });
    const r = await runCli(['run', dir, '--inputs', 'times=3', '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(r).outputs, { output: 'hihihi' });
    const detail = JSON.parse(fs.readFileSync(path.join(dir, '.promptflow', 'flow.detail.json'), 'utf8'));
    assert.strictEqual(detail.node_runs[0].node, 'repeat');
    assert.match(detail.node_runs[0].logs.stdout, /repeating hi/);
    // the flow file itself names the same flow
    const byFile = await runCli(['run', path.join(dir, 'flow.flex.yaml'), '--json']);
    assert.deepStrictEqual(json<{ outputs: unknown }>(byFile).outputs, { output: 'hihi' });
  });

  it('batches a class flex flow: __init__ from --init with a connection by name, __aggregate__ once, its result as metrics', async () => {
    const dir = jar.make(scorerFlow(['a', 'abc', 'boom', 'ab', 'abcd']));
    const r = await runCli([...scorerBatchArgs(dir, connectionsFile), '--workers', '2', '--json'], { TEST_LLM_KEY: SECRET });
    assert.strictEqual(r.code, 0, r.stderr);
    const doc = json<{ total: number; failed: number; summary: string; metrics: Record<string, number>; output: string }>(r);
    assert.strictEqual(doc.total, 5);
    assert.strictEqual(doc.failed, 1);
    assert.strictEqual(doc.summary, '1 out of 5 runs failed');
    assert.deepStrictEqual(doc.metrics, { total: 100, lines: 4 });
    const lines = fs
      .readFileSync(doc.output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepStrictEqual(
      lines.map((l) => [l.line_number, l.score, l.base_ok]),
      [
        [0, 10, true],
        [1, 30, true],
        [2, undefined, undefined],
        [3, 20, true],
        [4, 40, true],
      ],
    );
    assert.strictEqual(lines[2].error.code, 'ToolExecutionError');
    assert.match(lines[2].error.message, /\(ValueError\) no boom words/);
  });

  it("copies a flex flow's additional_includes into its session, as for DAG flows", async () => {
    const shared = jar.make({ 'textutil.py': 'def shout(s):\n    return s.upper() + "!"\n' });
    // the include is a sibling folder, named relative to the flow folder
    const dir = jar.make({
      'flow.flex.yaml': `entry: main:run\nadditional_includes:\n- ../${path.basename(shared)}/textutil.py\n`,
      'main.py': 'from textutil import shout\n\ndef run(text: str = "hey") -> str:\n    return shout(text)\n',
    });
    const r = await runCli(['run', dir, '--json'], { FLOWSESSION_ALLOWED_INCLUDE_ROOTS: shared });
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(r).outputs, { output: 'HEY!' });
  });

  it("runs a chat class flow as prompt flow's samples write it: a model configuration from --init init.json, Prompty.load with it", async () => {
    const dir = jar.make({
      'flow.flex.yaml': 'entry: flow:ChatFlow\nsample:\n  inputs:\n    question: What is ChatGPT?\n',
      'flow.py': `from pathlib import Path
from promptflow.core import AzureOpenAIModelConfiguration, Prompty
from promptflow.tracing import trace

BASE_DIR = Path(__file__).absolute().parent


class ChatFlow:
    def __init__(self, model_config: AzureOpenAIModelConfiguration, max_total_token: int = 4096):
        self.model_config = model_config
        self.max_total_token = max_total_token

    @trace
    def __call__(self, question: str = "What is ChatGPT?", chat_history: list = None) -> str:
        prompty = Prompty.load(source=BASE_DIR / "chat.prompty", model={"configuration": self.model_config})
        return prompty(question=question, chat_history=chat_history or [])
`,
      'chat.prompty': `---
name: Chat
model:
  api: chat
  configuration:
    type: azure_openai
    azure_deployment: gpt-35
  parameters:
    temperature: 0.2
inputs:
  question:
    type: string
  chat_history:
    type: list
---
system:
You are a helpful assistant.

{% for item in chat_history %}
{{item.role}}:
{{item.content}}
{% endfor %}

user:
{{question}}
`,
      'init.json': JSON.stringify({ model_config: { azure_deployment: 'gpt-35', connection: 'aoai' } }),
    });
    const history = JSON.stringify([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ]);
    const r = await runCli(
      [
        'run',
        dir,
        '--init',
        path.join(dir, 'init.json'),
        '--inputs',
        `chat_history=${history}`,
        '--connections',
        connectionsFile,
        '--json',
      ],
      { TEST_LLM_KEY: SECRET },
    );
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(r).outputs, { output: 'echo: What is ChatGPT?' });
    const req = stub.requests[stub.requests.length - 1];
    assert.match(req.path, /^\/openai\/deployments\/gpt-35\/chat\/completions/);
    assert.strictEqual(req.headers['api-key'], SECRET);
    assert.deepStrictEqual(
      (req.body.messages as { role: string }[]).map((m) => m.role),
      ['system', 'user', 'assistant', 'user'],
    );
    assert.strictEqual(req.body.temperature, 0.2);
  });

  it("installs a flex flow's environment.python_requirements_txt into its session, as for DAG flows", async () => {
    const dir = jar.make({
      'flow.flex.yml': 'entry: hello:run\nenvironment:\n  python_requirements_txt: deps/reqs.txt\n',
      'deps/reqs.txt': 'fs-greeting==1.0.0\n',
      'hello.py': 'import fs_greeting\n\ndef run(name: str = "flex") -> str:\n    return fs_greeting.greet(name)\n',
    });
    const r = await runCli(['run', dir, '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(r).outputs, { output: 'Hello, flex' });
  });

  it('streams a generator output chunk by chunk and records the joined text', async () => {
    const dir = jar.make({
      'flow.flex.yaml': 'entry: gen:count\n',
      'gen.py': 'def count(n: int = 3):\n    for i in range(n):\n        yield "part%d;" % i\n',
    });
    const r = await runCli(['run', dir, '--inputs', 'n=4']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes('part0;part1;part2;part3;'), r.stdout);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(dir, '.promptflow', 'flow.output.json'), 'utf8')), {
      output: 'part0;part1;part2;part3;',
    });
  });

  it('refuses a complex python input type with the error prompt flow gives', async () => {
    const dir = jar.make({
      'flow.flex.yaml': 'entry: bad:run\n',
      'bad.py': 'class Thing:\n    pass\n\ndef run(thing: Thing) -> str:\n    return "x"\n',
    });
    const r = await runCli(['run', dir, '--inputs', 'thing=1', '--json']);
    assert.strictEqual(r.code, 1);
    const err = json<{ error: { code: string; message: string } }>(r).error;
    assert.strictEqual(err.code, 'FlexFlowSignatureError');
    assert.match(err.message, /The input 'thing' is of a complex python type/);
  });

  it('runs a prompty alone with its sample, the key read from ${env:VAR} and kept out of the session and the results', async () => {
    const dir = jar.make({ 'ask.prompty': prompty(stub.url) });
    const r = await runCli(['run', path.join(dir, 'ask.prompty'), '--json'], { PROMPTY_TEST_KEY: SECRET });
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(r).outputs, { output: 'echo: What is a session?' });
    const req = stub.requests[stub.requests.length - 1];
    assert.strictEqual(req.path, '/v1/chat/completions');
    assert.strictEqual(req.headers.authorization, `Bearer ${SECRET}`);
    assert.deepStrictEqual(req.body.messages, [
      { role: 'system', content: 'You answer briefly.' },
      { role: 'user', content: 'What is a session?' },
    ]);
    assert.strictEqual(req.body.max_tokens, 64);
    assert.strictEqual(req.body.model, 'gpt-test');
    // the folder holding only the prompty is its session
    const withInputs = await runCli(['run', dir, '--inputs', 'question=Why?', '--json'], { PROMPTY_TEST_KEY: SECRET });
    assert.deepStrictEqual(json<{ outputs: unknown }>(withInputs).outputs, { output: 'echo: Why?' });
    await assertSecretNotInSession(manager, dir, SECRET);
    for (const f of ['flow.output.json', 'flow.detail.json', 'flow.log'])
      assert.ok(!fs.readFileSync(path.join(dir, '.promptflow', f), 'utf8').includes(SECRET), f);
  });

  it('batches a prompty with json_object and outputs, response: all and stream as prompt flow formats them', async () => {
    const dir = jar.make({
      'json.prompty': prompty(
        stub.url,
        'outputs:\n  answer:\n    type: string\n',
        '  parameters:\n    response_format:\n      type: json_object\n',
      ),
      'all.prompty': prompty(stub.url, '', '  parameters:\n    n: 1\n  response: all\n'),
      'stream.prompty': prompty(stub.url, '', '  parameters:\n    stream: true\n'),
      'data.jsonl': '{"q": "one"}\n{"q": "two two"}\n',
    });
    const batch = await runCli(
      ['batch', path.join(dir, 'json.prompty'), '--data', path.join(dir, 'data.jsonl'), '--column-mapping', 'question=${data.q}', '--json'],
      { PROMPTY_TEST_KEY: SECRET },
    );
    assert.strictEqual(batch.code, 0, batch.stderr);
    const out = fs
      .readFileSync(json<{ output: string }>(batch).output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepStrictEqual(
      out.map((l) => [l.line_number, l.answer, l.length]),
      [
        [0, 'echo: one', undefined],
        [1, 'echo: two two', undefined],
      ],
    );
    assert.deepStrictEqual(stub.requests[stub.requests.length - 1].body.response_format, { type: 'json_object' });
    const all = await runCli(['run', path.join(dir, 'all.prompty'), '--json'], { PROMPTY_TEST_KEY: SECRET });
    // prompt flow's Prompty returns the whole answer as an object, which its run records as the one output `output`
    const whole = json<{ outputs: { output: { choices: { message: { content: string } }[] } } }>(all).outputs;
    assert.deepStrictEqual(Object.keys(whole), ['output']);
    assert.strictEqual(whole.output.choices[0].message.content, 'echo: What is a session?');
    const streamed = await runCli(['run', path.join(dir, 'stream.prompty'), '--json'], { PROMPTY_TEST_KEY: SECRET });
    assert.strictEqual(streamed.code, 0, streamed.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(streamed).outputs, { output: 'echo: What is a session?' });
    assert.strictEqual(stub.requests[stub.requests.length - 1].body.stream, true);
  });

  it("sends a prompty's image input as an image_url part: a path beside the prompty, a data URL, a URL, in a run and a batch", async () => {
    const dir = jar.make({
      'look.prompty': `---
model:
  api: chat
  configuration:
    type: openai
    model: gpt-vision
    api_key: \${env:PROMPTY_TEST_KEY}
    base_url: ${stub.url}/v1
inputs:
  img:
    type: image
---
system:
Describe images.

user:
What is this? ![image]({{img}})
`,
    });
    fs.writeFileSync(path.join(dir, 'cat.png'), STUB_PNG);
    const dataUrl = `data:image/png;base64,${STUB_PNG.toString('base64')}`;
    const imageUrl = `${stub.url}/images/cat.png`;
    const userMessage = (url: string) => ({
      role: 'user',
      content: [
        { type: 'text', text: 'What is this? ' },
        { type: 'image_url', image_url: { url, detail: 'auto' } },
      ],
    });
    const r = await runCli(['run', path.join(dir, 'look.prompty'), '--inputs', 'img=cat.png', '--json'], { PROMPTY_TEST_KEY: SECRET });
    assert.strictEqual(r.code, 0, r.stderr);
    const sent = stub.requests[stub.requests.length - 1].body.messages as unknown[];
    assert.deepStrictEqual(sent, [{ role: 'system', content: 'Describe images.' }, userMessage(dataUrl)]);
    // a batch: paths relative to the data file, data URLs and URLs, each line its own request
    fs.writeFileSync(
      path.join(dir, 'data.jsonl'),
      [{ i: 'cat.png' }, { i: dataUrl }, { i: imageUrl }].map((l) => JSON.stringify(l)).join('\n') + '\n',
    );
    const before = stub.requests.length;
    const batch = await runCli(
      [
        'batch',
        path.join(dir, 'look.prompty'),
        '--data',
        path.join(dir, 'data.jsonl'),
        '--column-mapping',
        'img=${data.i}',
        '--workers',
        '1',
        '--json',
      ],
      { PROMPTY_TEST_KEY: SECRET },
    );
    assert.strictEqual(batch.code, 0, batch.stderr);
    assert.strictEqual(json<{ failed: number }>(batch).failed, 0);
    const users = stub.requests
      .slice(before)
      .filter((q) => q.path === '/v1/chat/completions')
      .map((q) => (q.body.messages as unknown[])[1]);
    assert.deepStrictEqual(users, [userMessage(dataUrl), userMessage(dataUrl), userMessage(imageUrl)]);
  });

  it('loads a prompty from a python tool of a DAG flow with Prompty.load, its connection by name', async () => {
    const dir = jar.make({
      'flow.dag.yaml': `inputs:
  topic:
    type: string
outputs:
  answer:
    type: string
    reference: \${ask.output}
nodes:
- name: ask
  type: python
  source: {type: code, path: ask.py}
  inputs:
    topic: \${inputs.topic}
`,
      'ask.py': `from pathlib import Path
from promptflow.core import Prompty, tool

@tool
def ask(topic: str) -> str:
    p = Prompty.load(source=Path(__file__).parent / "prompts" / "ask.prompty")
    return p(question="Tell me about " + topic)
`,
      'prompts/ask.prompty': `---
model:
  api: chat
  configuration:
    type: azure_openai
    azure_deployment: gpt-35
    connection: aoai
inputs:
  question:
    type: string
---
user:
{{question}}
`,
    });
    const r = await runCli(['run', dir, '--inputs', 'topic=sessions', '--connections', connectionsFile, '--json'], {
      TEST_LLM_KEY: SECRET,
    });
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(r).outputs, { answer: 'echo: Tell me about sessions' });
    assert.match(stub.requests[stub.requests.length - 1].path, /^\/openai\/deployments\/gpt-35\/chat\/completions/);
  });

  it('validates a flex flow in its session: an import error on its line in the entry module, a bad signature on its def', async () => {
    const dir = jar.make({
      'flow.flex.yaml': 'entry: flow:run\nsurprise: 1\n',
      'flow.py': 'import json\nimport no_such_module_here\n\ndef run(q: str) -> str:\n    return q\n',
    });
    type Report = { result: string; errors: { code: string; file: string; line: number; column: number; severity: string }[] };
    const r = await runCli(['validate', dir, '--json']);
    assert.strictEqual(r.code, 1, r.stderr);
    const report = json<Report>(r);
    assert.deepStrictEqual(
      report.errors.map((e) => [e.severity, e.code, e.file, e.line]),
      [
        ['warning', 'UnknownField', 'flow.flex.yaml', 2],
        ['error', 'PythonLoadError', 'flow.py', 2],
      ],
    );
    fs.writeFileSync(path.join(dir, 'flow.py'), 'class Blob:\n    pass\n\n\ndef run(q: Blob) -> str:\n    return "x"\n');
    const second = json<Report>(await runCli(['validate', path.join(dir, 'flow.flex.yaml'), '--json']));
    assert.deepStrictEqual(
      second.errors.filter((e) => e.severity === 'error').map((e) => [e.code, e.file, e.line]),
      [['FlexFlowSignatureError', 'flow.py', 5]],
    );
  });

  it('validates a prompty: front matter statically with positions, template syntax in the session', async () => {
    const dir = jar.make({
      'chat.prompty': `---
model:
  api: chat
  configuration:
    type: azure_openai
    connection: aoai
inputs:
  question:
    type: string
---
system:
Hello
# human:
{{ question }
`,
    });
    const staticOnly = await runCli(['validate', path.join(dir, 'chat.prompty'), '--static', '--json']);
    type Report = { errors: { code: string; file: string; line: number; column: number }[] };
    assert.deepStrictEqual(
      json<Report>(staticOnly).errors.map((e) => [e.code, e.file, e.line, e.column]),
      [
        ['FlowDefinitionError', 'chat.prompty', 4, 3],
        ['ChatAPIInvalidRole', 'chat.prompty', 13, 3],
      ],
    );
    const full = json<Report>(await runCli(['validate', path.join(dir, 'chat.prompty'), '--json']));
    const jinja = full.errors.find((e) => e.code === 'JinjaParsingError');
    assert.ok(jinja, JSON.stringify(full.errors));
    assert.strictEqual(jinja.file, 'chat.prompty');
    assert.strictEqual(jinja.line, 14);
  });
});
