import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { json, runCli, spawnCli } from '../support/cli';
import { chatFlowYaml } from '../support/flows/fixtures';
import { FlowJar } from '../support/flows/flowJar';
import { startOpenAiStub, stubConnectionsYaml, type OpenAiStub } from '../support/openaiStub';
import { waitUntil } from '../support/waiting';
import { testServices } from '../support/world/manager';
import { testEngine } from '../support/world/world';
import type { SessionManager } from '../../src/core/session/sessionManager';

const KEY = 'sk-test-chat-5e7d1a2b';
const ENV = { TEST_LLM_KEY: KEY };
/** a first turn starts the session (image layers cached by the world); later ones reuse it */
const SESSION_WAIT_MS = 240_000;

/** prompt flow's chat template: the history as user/assistant pairs, then the question */
const CHAT_TEMPLATE = `# system:
You are a helpful assistant.

{% for item in chat_history %}
# user:
{{item.inputs.question}}

# assistant:
{{item.outputs.answer}}

{% endfor %}
# user:
{{question}}
`;

function chatFlow(stream: boolean): Record<string, string> {
  return {
    'flow.dag.yaml': chatFlowYaml(`- name: chat
  type: llm
  source: {type: code, path: chat.jinja2}
  connection: oai
  api: chat
  inputs:
    model: gpt-4o
    stream: ${stream}
    question: \${inputs.question}
    chat_history: \${inputs.chat_history}
`),
    'chat.jinja2': CHAT_TEMPLATE,
  };
}

describe('chat flows and streamed outputs', function () {
  let stub: OpenAiStub;
  let manager: SessionManager;
  let connections: string;
  const jar = new FlowJar();

  before(async () => {
    stub = await startOpenAiStub(KEY);
    ({ manager } = testServices());
    connections = path.join(jar.make({}), 'connections.yaml');
    fs.writeFileSync(connections, stubConnectionsYaml(stub.url));
  });

  after(async () => {
    stub.holdLastChunk(false);
    stub.release();
    await jar.dispose([manager]);
    manager.dispose();
    await stub.close();
  });

  it('chat: two turns from stdin, the first turn reaching the second as chat history, ends on "exit"', async () => {
    const dir = jar.make(chatFlow(false));
    const before = stub.requests.length;
    const cli = spawnCli(['chat', dir, '--connections', connections], ENV);
    try {
      cli.write('What is a session?\n');
      await waitUntil('the first answer on stdout', SESSION_WAIT_MS, () => cli.stdout.includes('echo: What is a session?\n'));
      cli.write('And a second turn?\n');
      await waitUntil('the second answer on stdout', 60_000, () => cli.stdout.includes('echo: And a second turn?\n'));
      cli.write('exit\n');
      const r = await cli.exited;
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout, 'echo: What is a session?\necho: And a second turn?\n');
    } finally {
      cli.kill();
    }
    const turns = stub.requests.slice(before);
    assert.strictEqual(turns.length, 2);
    assert.deepStrictEqual(turns[0].body.messages, [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'What is a session?' },
    ]);
    assert.deepStrictEqual(turns[1].body.messages, [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'What is a session?' },
      { role: 'assistant', content: 'echo: What is a session?' },
      { role: 'user', content: 'And a second turn?' },
    ]);
    // each turn is a run with its files; the last one's inputs hold the history as prompt flow shapes it
    const detail = JSON.parse(fs.readFileSync(path.join(dir, '.promptflow', 'flow.detail.json'), 'utf8'));
    assert.deepStrictEqual(detail.flow_runs[0].inputs.chat_history, [
      { inputs: { question: 'What is a session?' }, outputs: { answer: 'echo: What is a session?' } },
    ]);
  });

  it('chat: ends at end of input, and refuses a flow that is not a chat flow with the reason', async () => {
    const dir = jar.make(chatFlow(false));
    const cli = spawnCli(['chat', dir, '--connections', connections], ENV);
    cli.end();
    const r = await cli.exited;
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(r.stdout, '');
    const notChat = jar.make({
      ...chatFlow(false),
      'flow.dag.yaml': chatFlow(false)['flow.dag.yaml'].replace(
        '    type: list\n    is_chat_history: true',
        '    type: string\n    is_chat_history: true',
      ),
    });
    const bad = await runCli(['chat', notChat], ENV);
    assert.strictEqual(bad.code, 1);
    assert.match(bad.stderr, /chat history input 'chat_history' must be of type list/);
  });

  it('chat: Ctrl-C during a turn cancels that turn in the session and ends the chat', async () => {
    const pidFile = `/tmp/flowsession-chat-pid-${process.pid}-${Date.now()}`;
    const dir = jar.make({
      'flow.dag.yaml': chatFlowYaml(`- name: chat
  type: python
  source: {type: code, path: chat.py}
  inputs:
    question: \${inputs.question}
`),
      'chat.py': `import os
import time
from promptflow import tool


@tool
def chat(question: str):
    with open(${JSON.stringify(pidFile)}, "w") as f:
        f.write(str(os.getpid()))
    yield "thinking"
    time.sleep(300)  # until cancelled
    yield " done"
`,
    });
    const cli = spawnCli(['chat', dir], ENV);
    try {
      cli.write('Take your time\n');
      await waitUntil('the turn to start streaming', SESSION_WAIT_MS, () => cli.stdout.includes('thinking'));
      const container = (await manager.status(dir)).container!;
      const pid = (await testEngine().exec(container, ['cat', pidFile])).stdout.trim();
      assert.match(pid, /^\d+$/);
      cli.signal('SIGINT');
      const r = await cli.exited;
      assert.strictEqual(r.code, 0, r.stderr);
      // the turn's process in the session is gone: nothing runs that the user did not ask for
      await waitUntil('the turn to stop in the session', 15_000, async () => {
        const alive = await testEngine().exec(container, [
          'python3',
          '-c',
          `import os\ntry:\n    os.kill(${pid}, 0)\n    print("alive")\nexcept ProcessLookupError:\n    print("gone")`,
        ]);
        return alive.stdout.trim() === 'gone';
      });
    } finally {
      cli.kill();
    }
  });

  it('run: an llm node with stream: true prints its chunks before the answer ends; the records hold the whole text', async () => {
    const dir = jar.make(chatFlow(true));
    stub.holdLastChunk(true);
    const cli = spawnCli(['run', dir, '--connections', connections, '--inputs', 'question=one two three'], ENV);
    try {
      // the stub sends all but its last chunk, then waits for this test
      await waitUntil('the first chunks on stdout', SESSION_WAIT_MS, () => cli.stdout.includes('echo: one two'));
      assert.strictEqual(stub.held, 1, 'the answer is still being produced');
      assert.ok(!cli.stdout.includes('three'), `the held chunk cannot be out yet: ${cli.stdout}`);
      const firstAt = cli.chunks.find((c) => c.text.includes('echo:'))!.at;
      const releasedAt = Date.now();
      stub.holdLastChunk(false);
      stub.release();
      const r = await cli.exited;
      assert.strictEqual(r.code, 0, r.stderr);
      assert.ok(firstAt <= releasedAt);
      assert.ok(r.stdout.startsWith('echo: one two three\n'), r.stdout);
      assert.deepStrictEqual(JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))), { answer: 'echo: one two three' });
    } finally {
      stub.holdLastChunk(false);
      stub.release();
      cli.kill();
    }
    assert.strictEqual(stub.requests[stub.requests.length - 1].body.stream, true);
    const output = JSON.parse(fs.readFileSync(path.join(dir, '.promptflow', 'flow.output.json'), 'utf8'));
    assert.deepStrictEqual(output, { answer: 'echo: one two three' });
    const detail = JSON.parse(fs.readFileSync(path.join(dir, '.promptflow', 'flow.detail.json'), 'utf8'));
    assert.strictEqual(detail.node_runs[0].output, 'echo: one two three');

    // --json stays one document; a batch records each line's whole text
    const asJson = await runCli(['run', dir, '--connections', connections, '--inputs', 'question=four five', '--json'], ENV);
    assert.strictEqual(asJson.code, 0, asJson.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(asJson).outputs, { answer: 'echo: four five' });
    const data = path.join(dir, 'lines.jsonl');
    fs.writeFileSync(data, '{"question": "six seven"}\n{"question": "eight"}\n');
    const batch = await runCli(['batch', dir, '--data', data, '--connections', connections, '--json'], ENV);
    assert.strictEqual(batch.code, 0, batch.stderr);
    const lines = fs
      .readFileSync(json<{ output: string }>(batch).output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).answer);
    assert.deepStrictEqual(lines, ['echo: six seven', 'echo: eight']);
  });

  it('run: a python tool that returns a generator streams what it yields as it yields it', async () => {
    const gate = `/tmp/flowsession-gate-${process.pid}-${Date.now()}`;
    const dir = jar.make({
      'flow.dag.yaml': `inputs:
  gate:
    type: string
outputs:
  text:
    type: string
    reference: \${words.output}
  length:
    type: int
    reference: \${count.output}
nodes:
- name: words
  type: python
  source: {type: code, path: words.py}
  inputs:
    gate: \${inputs.gate}
- name: count
  type: python
  source: {type: code, path: count.py}
  inputs:
    text: \${words.output}
`,
      'words.py': `import os
import time
from promptflow import tool


@tool
def words(gate: str):
    yield "first "
    # the test opens the gate once it has seen "first " on its terminal (bounded wait)
    end = time.monotonic() + 120
    while not os.path.exists(gate) and time.monotonic() < end:
        time.sleep(0.02)
    yield "second"
`,
      'count.py': `from promptflow import tool


@tool
def count(text: str) -> int:
    return len(text)
`,
    });
    const cli = spawnCli(['run', dir, '--inputs', `gate=${gate}`]);
    try {
      await waitUntil('the first yield on stdout', SESSION_WAIT_MS, () => cli.stdout.includes('first'));
      assert.ok(!cli.stdout.includes('second'), cli.stdout);
      const container = (await manager.status(dir)).container!;
      await testEngine().exec(container, ['touch', gate]);
      const r = await cli.exited;
      assert.strictEqual(r.code, 0, r.stderr);
      assert.ok(r.stdout.startsWith('first second\n'), r.stdout);
    } finally {
      cli.kill();
    }
    // a downstream node got the whole text, as did the records
    const output = JSON.parse(fs.readFileSync(path.join(dir, '.promptflow', 'flow.output.json'), 'utf8'));
    assert.deepStrictEqual(output, { text: 'first second', length: 12 });
  });
});
