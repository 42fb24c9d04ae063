import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { json, runCli } from '../support/cli';
import { FlowJar } from '../support/flows/flowJar';
import { llmFlow } from '../support/flows/fixtures';
import { assertSecretNotInSession } from '../support/secretChecks';
import { testServices } from '../support/world/manager';
import { startStubWithConnections, type OpenAiStub } from '../support/openaiStub';
import { testEngine } from '../support/world/world';
import { readConnectionsFile } from '../../src/core/runs/connectionsFile';
import type { RunService } from '../../src/core/runs/runService';
import type { SessionManager } from '../../src/core/session/sessionManager';

const SECRET = 'sk-test-4f1a9c0e7b2d';

describe('the llm tool against an OpenAI-compatible endpoint on loopback', function () {
  let stub: OpenAiStub;
  let manager: SessionManager;
  let runs: RunService;
  let connectionsFile: string;
  const jar = new FlowJar();
  const flow = (files: Record<string, string>) => jar.make(files);

  before(async () => {
    ({ stub, connectionsFile } = await startStubWithConnections(SECRET, jar));
    ({ manager, runs } = testServices());
  });

  after(async () => {
    await jar.dispose([manager]);
    manager.dispose();
    await stub.close();
  });

  it('calls Azure OpenAI chat with the messages of the template and the key from the connection', async () => {
    const dir = flow(llmFlow('gpt-35'));
    const r = await runCli(['run', dir, '--connections', connectionsFile, '--inputs', 'question=Why?', '--json'], { TEST_LLM_KEY: SECRET });
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(r).outputs, { answer: 'echo: Why?' });
    const req = stub.requests[stub.requests.length - 1];
    assert.match(req.path, /^\/openai\/deployments\/gpt-35\/chat\/completions\?api-version=2024-02-01$/);
    assert.strictEqual(req.headers['api-key'], SECRET);
    assert.deepStrictEqual(req.body.messages, [
      { role: 'system', content: 'You answer briefly.' },
      { role: 'user', content: 'Why?' },
    ]);
  });

  it('calls OpenAI completion with the model', async () => {
    const dir = flow(llmFlow('text-model', 'oai', 'completion'));
    const r = await runCli(['run', dir, '--connections', connectionsFile, '--json'], { TEST_LLM_KEY: SECRET });
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(r).outputs, { answer: 'completed: Q: What is a session?\nA:' });
    const req = stub.requests[stub.requests.length - 1];
    assert.strictEqual(req.path, '/v1/completions');
    assert.strictEqual(req.headers.authorization, `Bearer ${SECRET}`);
  });

  it('fails clearly on a bad key (401) without printing the key', async () => {
    const dir = flow(llmFlow('gpt-35'));
    const r = await runCli(['run', dir, '--connections', connectionsFile, '--json'], { TEST_LLM_KEY: 'sk-wrong-key-123456' });
    assert.strictEqual(r.code, 1);
    assert.match(r.stderr, /AuthenticationError.*401/);
    assert.ok(!r.stderr.includes('sk-wrong-key-123456') && !r.stdout.includes('sk-wrong-key-123456'));
  });

  it('fails clearly when the endpoint does not answer in time', async () => {
    const dir = flow(llmFlow('slow'));
    const record = await runs.run(dir, {
      connections: readConnectionsFile(connectionsFile, { TEST_LLM_KEY: SECRET }),
      llmTimeoutSeconds: 1,
    });
    assert.strictEqual(record.status, 'Failed');
    assert.match(record.error?.message ?? '', /timed out/i);
  });

  it('fails clearly on an invalid role in a chat prompt', async () => {
    const dir = flow({ ...llmFlow('gpt-35'), 'ask.jinja2': '# system:\nBe brief.\n# wizard:\n{{question}}\n' });
    const r = await runCli(['run', dir, '--connections', connectionsFile], { TEST_LLM_KEY: SECRET });
    assert.strictEqual(r.code, 1);
    assert.match(r.stderr, /wizard/);
  });

  it('keeps the secret out of the container environment, labels, image history, logs and result files', async () => {
    const dir = flow(llmFlow('gpt-35'));
    const record = await runs.run(dir, { connections: readConnectionsFile(connectionsFile, { TEST_LLM_KEY: SECRET }) });
    assert.strictEqual(record.status, 'Completed', JSON.stringify(record.error));
    const { container, image } = await assertSecretNotInSession(manager, dir, SECRET);
    const engine = testEngine();
    const files = await engine.exec(container, ['grep', '-r', '-l', SECRET, '/flow', '/tmp', '/home/flowsession', '/opt/flowsession']);
    assert.strictEqual(files.stdout.trim(), '', `files holding the secret: ${files.stdout}`);
    for (const f of ['flow.output.json', 'flow.detail.json', 'flow.log']) {
      assert.ok(!fs.readFileSync(path.join(dir, '.promptflow', f), 'utf8').includes(SECRET), f);
    }
    const imageInfo = await engine.inspectImage(image);
    assert.ok(!JSON.stringify(imageInfo).includes(SECRET), 'not in the image');
  });
});
