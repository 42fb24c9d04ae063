/**
 * Traces of runs and batches on the real engine: spans per flow line, node and LLM call, written to the run's
 * trace.json and exported over OTLP/HTTP to a collector on loopback, with OpenTelemetry's GenAI attributes taken
 * from the (stub) API's usage, token totals printed by the CLI, and no secret in any span.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { json, runCli } from '../support/cli';
import { FlowJar } from '../support/flows/flowJar';
import { llmFlow, stubPrompty } from '../support/flows/fixtures';
import { attr, startOtlpReceiver, type OtlpReceiver } from '../support/otlpReceiver';
import { STUB_CHAT_USAGE, startOpenAiStub, stubConnectionsYaml, type OpenAiStub } from '../support/openaiStub';
import { testServices } from '../support/world/manager';
import { runMultiEngineBatch } from '../../src/core/runs/multiEngineBatch';
import type { OtlpSpan, OtlpTraces } from '../../src/core/runs/otlp';
import { readConnectionsFile } from '../../src/core/runs/connectionsFile';
import type { SessionManager } from '../../src/core/session/sessionManager';

const SECRET = 'sk-trace-7c1d22e09b4a';

const FLOW: Record<string, string> = {
  'flow.dag.yaml': `inputs:
  question:
    type: string
    default: What is a trace?
outputs:
  answer:
    type: string
    reference: \${ask.output}
nodes:
- name: tidy
  type: python
  source: {type: code, path: tidy.py}
  inputs:
    text: \${inputs.question}
- name: ask
  type: llm
  source: {type: code, path: ask.jinja2}
  connection: aoai
  api: chat
  inputs:
    deployment_name: gpt-35
    temperature: 0
    question: \${tidy.output}
`,
  'tidy.py': 'from promptflow import tool\n\n\n@tool\ndef tidy(text: str) -> str:\n    return text.strip()\n',
  'ask.jinja2': '# system:\nYou answer briefly.\n\n# user:\n{{question}}\n',
};

function byName(spans: OtlpSpan[], name: string): OtlpSpan {
  const s = spans.find((x) => x.name === name);
  assert.ok(s, `a span named ${name} among ${spans.map((x) => x.name).join(', ')}`);
  return s;
}

function traceFile(dir: string, runId: string): OtlpSpan[] {
  const doc = JSON.parse(fs.readFileSync(path.join(dir, '.promptflow', 'runs', runId, 'trace.json'), 'utf8')) as OtlpTraces;
  const service = doc.resourceSpans[0].resource.attributes.find((a) => a.key === 'service.name');
  assert.strictEqual(service?.value.stringValue, 'flowsession');
  return doc.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
}

describe('traces of runs and batches', function () {
  let stub: OpenAiStub;
  let collector: OtlpReceiver;
  let manager: SessionManager;
  let connectionsFile: string;
  const jar = new FlowJar();

  before(async () => {
    stub = await startOpenAiStub(SECRET);
    collector = await startOtlpReceiver();
    ({ manager } = testServices());
    connectionsFile = path.join(jar.make({}), 'connections.yaml');
    fs.writeFileSync(connectionsFile, stubConnectionsYaml(stub.url));
  });

  after(async () => {
    await jar.dispose([manager]);
    manager.dispose();
    await stub.close();
    await collector.close();
  });

  it('a run exports its spans over OTLP/HTTP and writes trace.json, with GenAI attributes from the usage and no secret', async () => {
    const dir = jar.make(FLOW);
    const before = collector.requests.length;
    const r = await runCli(['run', dir, '--connections', connectionsFile, '--json'], {
      TEST_LLM_KEY: SECRET,
      FLOWSESSION_OTLP_ENDPOINT: collector.url,
    });
    assert.strictEqual(r.code, 0, r.stderr);
    const doc = json<{ runId: string; tokens: { input: number; output: number; total: number } }>(r);
    assert.deepStrictEqual(doc.tokens, {
      input: STUB_CHAT_USAGE.prompt_tokens,
      output: STUB_CHAT_USAGE.completion_tokens,
      total: STUB_CHAT_USAGE.total_tokens,
    });
    assert.match(r.stderr, /tokens: 15 tokens \(11 in, 4 out\)/);
    assert.strictEqual(collector.requests.length, before + 1, 'one export');
    const req = collector.requests[before];
    assert.strictEqual(req.path, '/v1/traces');
    assert.match(req.contentType, /application\/json/);
    assert.ok(!req.body.includes(SECRET), 'no secret in the export');
    const spans = (JSON.parse(req.body) as OtlpTraces).resourceSpans[0].scopeSpans[0].spans;
    const flow = byName(spans, 'flow');
    const tidy = byName(spans, 'tidy');
    const ask = byName(spans, 'ask');
    const llm = byName(spans, 'chat gpt-35');
    assert.strictEqual(flow.parentSpanId, undefined);
    assert.strictEqual(tidy.parentSpanId, flow.spanId);
    assert.strictEqual(ask.parentSpanId, flow.spanId);
    assert.strictEqual(llm.parentSpanId, ask.spanId);
    assert.ok(spans.every((s) => s.traceId === flow.traceId && /^[0-9a-f]{32}$/.test(s.traceId) && /^[0-9a-f]{16}$/.test(s.spanId)));
    assert.ok(spans.every((s) => /^\d+$/.test(s.startTimeUnixNano) && BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano)));
    assert.ok(BigInt(tidy.endTimeUnixNano) <= BigInt(ask.startTimeUnixNano), 'tidy ends before ask starts');
    assert.strictEqual(llm.kind, 3, 'an LLM call is a client span');
    assert.strictEqual(llm.status.code, 1);
    assert.strictEqual(attr(llm, 'gen_ai.system'), 'az.ai.openai');
    assert.strictEqual(attr(llm, 'gen_ai.provider.name'), 'azure.ai.openai');
    assert.deepStrictEqual(llm.attributes.find((a) => a.key === 'gen_ai.response.finish_reasons')?.value, {
      arrayValue: { values: [{ stringValue: 'stop' }] },
    });
    assert.strictEqual(attr(llm, 'gen_ai.operation.name'), 'chat');
    assert.strictEqual(attr(llm, 'gen_ai.request.model'), 'gpt-35');
    assert.strictEqual(attr(llm, 'gen_ai.response.model'), 'stub-deployed-model');
    assert.strictEqual(attr(llm, 'gen_ai.usage.input_tokens'), STUB_CHAT_USAGE.prompt_tokens);
    assert.strictEqual(attr(llm, 'gen_ai.usage.output_tokens'), STUB_CHAT_USAGE.completion_tokens);
    assert.strictEqual(attr(llm, 'gen_ai.request.temperature'), 0);
    assert.strictEqual(attr(tidy, 'flowsession.output'), 'What is a trace?');
    assert.match(String(attr(llm, 'flowsession.output')), /echo: What is a trace\?/);
    // the same spans in the run's folder
    const written = traceFile(dir, doc.runId);
    assert.deepStrictEqual(written.map((s) => s.spanId).sort(), spans.map((s) => s.spanId).sort());
    assert.ok(!fs.readFileSync(path.join(dir, '.promptflow', 'runs', doc.runId, 'trace.json'), 'utf8').includes(SECRET));
  });

  it('a batch has one trace: its root span, a span per line over the nodes and calls, and the tokens of all lines', async () => {
    const dir = jar.make(FLOW);
    const data = path.join(dir, 'lines.jsonl');
    fs.writeFileSync(data, ['a?', 'b?', 'c?'].map((q) => JSON.stringify({ question: q })).join('\n') + '\n');
    const before = collector.requests.length;
    const r = await runCli(['batch', dir, '--data', data, '--connections', connectionsFile, '--workers', '2', '--json'], {
      TEST_LLM_KEY: SECRET,
      FLOWSESSION_OTLP_ENDPOINT: `${collector.url}/v1/traces`,
    });
    assert.strictEqual(r.code, 0, r.stderr);
    const doc = json<{ runId: string; tokens: { total: number } }>(r);
    assert.strictEqual(doc.tokens.total, 3 * STUB_CHAT_USAGE.total_tokens);
    assert.match(r.stderr, /tokens: 45 tokens/);
    const spans = traceFile(dir, doc.runId);
    const root = byName(spans, 'batch');
    assert.strictEqual(root.parentSpanId, undefined);
    for (const i of [0, 1, 2]) {
      const line = byName(spans, `line ${i}`);
      assert.strictEqual(line.parentSpanId, root.spanId);
      assert.strictEqual(attr(line, 'flowsession.line_number'), i);
      const ask = spans.find((s) => s.name === 'ask' && s.parentSpanId === line.spanId);
      assert.ok(ask, `line ${i} has its ask node`);
      assert.ok(spans.some((s) => s.name === 'chat gpt-35' && s.parentSpanId === ask.spanId));
    }
    assert.ok(spans.every((s) => s.traceId === root.traceId));
    assert.strictEqual(collector.requests.length, before + 1);
    assert.strictEqual(collector.requests[before].path, '/v1/traces', 'an endpoint naming /v1/traces is used as it is');
    assert.strictEqual(
      (JSON.parse(collector.requests[before].body) as OtlpTraces).resourceSpans[0].scopeSpans[0].spans.length,
      spans.length,
    );
  });

  it("prompt flow's PF_DISABLE_TRACING=true, in the flow's environment_variables or where the CLI runs, turns tracing off", async () => {
    const runIds = (dir: string) => fs.readdirSync(path.join(dir, '.promptflow', 'runs'));
    const noTrace = (dir: string, runId: string) =>
      assert.ok(!fs.existsSync(path.join(dir, '.promptflow', 'runs', runId, 'trace.json')), `no trace.json for ${runId}`);
    const off = jar.make({ ...FLOW, 'flow.dag.yaml': `environment_variables:\n  PF_DISABLE_TRACING: "true"\n${FLOW['flow.dag.yaml']}` });
    const plain = jar.make(FLOW);
    for (const dir of [off, plain]) {
      fs.writeFileSync(path.join(dir, 'lines.jsonl'), '{"question": "a?"}\n{"question": "b?"}\n');
    }
    const before = collector.requests.length;
    const env = (dir: string) => ({
      TEST_LLM_KEY: SECRET,
      FLOWSESSION_OTLP_ENDPOINT: collector.url,
      ...(dir === plain ? { PF_DISABLE_TRACING: 'True' } : {}),
    });
    for (const dir of [off, plain]) {
      const run = await runCli(['run', dir, '--connections', connectionsFile, '--json'], env(dir));
      assert.strictEqual(run.code, 0, run.stderr);
      const batch = await runCli(
        ['batch', dir, '--data', path.join(dir, 'lines.jsonl'), '--connections', connectionsFile, '--json'],
        env(dir),
      );
      assert.strictEqual(batch.code, 0, batch.stderr + batch.stdout);
      for (const r of [run, batch]) {
        const doc = json<{ runId: string; tokens?: unknown }>(r);
        noTrace(dir, doc.runId);
        assert.strictEqual(doc.tokens, undefined, 'no spans, no token totals');
        assert.doesNotMatch(r.stderr, /tokens:/);
      }
      assert.strictEqual(runIds(dir).length, 2);
    }
    assert.strictEqual(collector.requests.length, before, 'nothing exported');
    // the same plain flow without the variable is traced again
    const traced = await runCli(['run', plain, '--connections', connectionsFile, '--json'], { TEST_LLM_KEY: SECRET });
    assert.strictEqual(traced.code, 0, traced.stderr);
    assert.ok(traceFile(plain, json<{ runId: string }>(traced).runId).some((s) => s.name === 'chat gpt-35'));
  });

  it('a streamed LLM call (stream: true) is one LLM span from the request to its last chunk, with the usage it asked for', async () => {
    const flow = llmFlow('gpt-4o', 'oai');
    const dir = jar.make({ ...flow, 'flow.dag.yaml': flow['flow.dag.yaml'].replace('temperature: 0', 'temperature: 0\n    stream: true') });
    const before = stub.requests.length;
    const r = await runCli(['run', dir, '--connections', connectionsFile, '--json'], { TEST_LLM_KEY: SECRET });
    assert.strictEqual(r.code, 0, r.stderr);
    const doc = json<{ runId: string; outputs: { answer: string }; tokens: { input: number; output: number; total: number } }>(r);
    assert.strictEqual(doc.outputs.answer, 'echo: What is a session?');
    const request = stub.requests.slice(before).find((q) => q.path.endsWith('/chat/completions'));
    assert.deepStrictEqual(request?.body.stream_options, { include_usage: true }, 'the usage chunk is asked for');
    // the stub streams "echo:", " What", " is", " a", " session?" and counts 1 prompt token
    assert.deepStrictEqual(doc.tokens, { input: 1, output: 5, total: 6 });
    const spans = traceFile(dir, doc.runId);
    const ask = byName(spans, 'ask');
    const llm = byName(spans, 'chat gpt-4o');
    assert.strictEqual(llm.parentSpanId, ask.spanId);
    assert.strictEqual(llm.kind, 3);
    assert.strictEqual(attr(llm, 'flowsession.stream'), true);
    assert.strictEqual(attr(llm, 'gen_ai.usage.output_tokens'), 5);
    assert.strictEqual(attr(llm, 'gen_ai.response.model'), 'gpt-4o');
    assert.strictEqual(attr(llm, 'flowsession.output'), 'echo: What is a session?');
    const ttft = Number(attr(llm, 'flowsession.time_to_first_token_ms'));
    assert.ok(ttft >= 0 && ttft <= Number(attr(llm, 'flowsession.latency_ms')), `time to first token ${ttft}`);
    assert.ok(BigInt(llm.endTimeUnixNano) <= BigInt(ask.endTimeUnixNano), 'the call ends with its last chunk, inside the node');
  });

  it('a python tool calling the API itself with urllib has an LLM span under its node, with the usage and no key', async () => {
    const dir = jar.make({
      'flow.dag.yaml': `inputs:
  question:
    type: string
    default: Who calls?
outputs:
  answer:
    type: string
    reference: \${call_api.output}
nodes:
- name: call_api
  type: python
  source: {type: code, path: call_api.py}
  inputs:
    conn: oai
    question: \${inputs.question}
`,
      'call_api.py': `import json
import urllib.request
from promptflow import tool
from promptflow.connections import OpenAIConnection


@tool
def call_api(conn: OpenAIConnection, question: str) -> str:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}]}
    req = urllib.request.Request(conn.base_url + "/chat/completions", data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + conn.api_key, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())["choices"][0]["message"]["content"]
`,
    });
    const r = await runCli(['run', dir, '--connections', connectionsFile, '--json'], { TEST_LLM_KEY: SECRET });
    assert.strictEqual(r.code, 0, r.stderr);
    const doc = json<{ runId: string; outputs: { answer: string }; tokens: { total: number } }>(r);
    assert.strictEqual(doc.outputs.answer, 'echo: Who calls?');
    assert.strictEqual(doc.tokens.total, STUB_CHAT_USAGE.total_tokens);
    const spans = traceFile(dir, doc.runId);
    const node = byName(spans, 'call_api');
    const llm = byName(spans, 'chat gpt-4o-mini');
    assert.strictEqual(llm.parentSpanId, node.spanId);
    assert.strictEqual(llm.kind, 3);
    assert.strictEqual(attr(llm, 'flowsession.instrumented'), 'http.client');
    assert.strictEqual(attr(llm, 'gen_ai.system'), 'openai');
    assert.strictEqual(attr(llm, 'gen_ai.usage.input_tokens'), STUB_CHAT_USAGE.prompt_tokens);
    assert.strictEqual(attr(llm, 'gen_ai.usage.output_tokens'), STUB_CHAT_USAGE.completion_tokens);
    assert.match(String(attr(llm, 'flowsession.output')), /echo: Who calls\?/);
    assert.ok(!fs.readFileSync(path.join(dir, '.promptflow', 'runs', doc.runId, 'trace.json'), 'utf8').includes(SECRET));
  });

  it("a flex flow's @trace functions nest under its entry, a prompty called from them under theirs; a prompty alone is traced too", async () => {
    const prompty = stubPrompty(stub.url, '', undefined, 'TEST_LLM_KEY');
    const dir = jar.make({
      'flow.flex.yaml': 'entry: app:answer\n',
      'ask.prompty': prompty,
      'app.py': `from promptflow.core import Prompty
from promptflow.tracing import trace


@trace
def tidy(text: str) -> str:
    return text.strip()


@trace
def ask(question: str) -> str:
    return Prompty.load(source="ask.prompty")(question=question)


@trace
def check(text: str) -> None:
    raise ValueError("too short: " + text)


def answer(question: str) -> str:
    try:
        check(question)
    except ValueError:
        pass
    return ask(tidy(question))
`,
    });
    const r = await runCli(['run', dir, '--inputs', 'question=  Why trace?  ', '--json'], { TEST_LLM_KEY: SECRET });
    assert.strictEqual(r.code, 0, r.stderr);
    const doc = json<{ runId: string; outputs: { output: string }; tokens: { total: number } }>(r);
    assert.strictEqual(doc.outputs.output, 'echo: Why trace?');
    assert.strictEqual(doc.tokens.total, STUB_CHAT_USAGE.total_tokens);
    const spans = traceFile(dir, doc.runId);
    const root = byName(spans, 'flow');
    const entry = byName(spans, 'answer');
    assert.strictEqual(root.parentSpanId, undefined);
    assert.strictEqual(entry.parentSpanId, root.spanId);
    assert.strictEqual(attr(entry, 'flowsession.node.type'), 'flex');
    for (const name of ['tidy', 'ask', 'check']) assert.strictEqual(byName(spans, name).parentSpanId, entry.spanId, name);
    assert.strictEqual(attr(byName(spans, 'tidy'), 'flowsession.output'), 'Why trace?');
    const failed = byName(spans, 'check');
    assert.strictEqual(failed.status.code, 2);
    assert.strictEqual(attr(failed, 'error.type'), 'ValueError');
    const llm = byName(spans, 'chat gpt-test');
    assert.strictEqual(llm.parentSpanId, byName(spans, 'ask').spanId);
    assert.strictEqual(attr(llm, 'gen_ai.usage.input_tokens'), STUB_CHAT_USAGE.prompt_tokens);

    const alone = await runCli(['run', path.join(dir, 'ask.prompty'), '--json'], { TEST_LLM_KEY: SECRET });
    assert.strictEqual(alone.code, 0, alone.stderr);
    const aloneDoc = json<{ runId: string; tokens: { total: number } }>(alone);
    assert.strictEqual(aloneDoc.tokens.total, STUB_CHAT_USAGE.total_tokens);
    const aloneSpans = traceFile(dir, aloneDoc.runId);
    const step = byName(aloneSpans, 'Ask');
    assert.strictEqual(step.parentSpanId, byName(aloneSpans, 'flow').spanId);
    assert.strictEqual(attr(step, 'span_type'), 'Prompty');
    assert.strictEqual(byName(aloneSpans, 'chat gpt-test').parentSpanId, step.spanId);

    // a batch of the flow: each line's entry under its line, the @trace functions and their LLM call under the entry
    fs.writeFileSync(path.join(dir, 'lines.jsonl'), '{"question": " a? "}\n{"question": " b? "}\n');
    const batch = await runCli(['batch', dir, '--data', path.join(dir, 'lines.jsonl'), '--workers', '2', '--json'], {
      TEST_LLM_KEY: SECRET,
    });
    assert.strictEqual(batch.code, 0, batch.stderr + batch.stdout);
    const batchDoc = json<{ runId: string; tokens: { total: number } }>(batch);
    assert.strictEqual(batchDoc.tokens.total, 2 * STUB_CHAT_USAGE.total_tokens, 'the tokens of the calls inside the entries');
    const batchSpans = traceFile(dir, batchDoc.runId);
    for (const i of [0, 1]) {
      const line = byName(batchSpans, `line ${i}`);
      const lineEntry = batchSpans.find((s) => s.name === 'answer' && s.parentSpanId === line.spanId);
      assert.ok(lineEntry, `line ${i} has its entry`);
      assert.strictEqual(attr(lineEntry, 'flowsession.node.type'), 'flex');
      const lineAsk = batchSpans.find((s) => s.name === 'ask' && s.parentSpanId === lineEntry.spanId);
      assert.ok(lineAsk, `line ${i}'s @trace function is under its entry`);
      assert.ok(
        batchSpans.some((s) => s.name === 'chat gpt-test' && s.parentSpanId === lineAsk.spanId),
        `line ${i}'s LLM call is under its @trace function`,
      );
    }
    for (const file of [doc.runId, aloneDoc.runId])
      assert.ok(!fs.readFileSync(path.join(dir, '.promptflow', 'runs', file, 'trace.json'), 'utf8').includes(SECRET));
  });

  it("a batch line's node spans have the inputs and outputs a run of that line has, however the batch sends them", async () => {
    const tool = (signature: string, body: string) => `from promptflow import tool\n\n\n@tool\ndef ${signature}:\n    return ${body}\n`;
    const dir = jar.make({
      'flow.dag.yaml': `inputs:
  q:
    type: string
  n:
    type: int
outputs:
  size:
    type: int
    reference: \${pick.output}
nodes:
- name: shout
  type: python
  source: {type: code, path: shout.py}
  inputs:
    text: \${inputs.q}
- name: pair
  type: python
  source: {type: code, path: pair.py}
  inputs:
    a: \${shout.output}
    b: \${inputs.n}
    sep: " + "
    t: 0.5
- name: pick
  type: python
  source: {type: code, path: pick.py}
  inputs:
    v: \${pair.output.x}
    k: \${inputs.q}
`,
      'shout.py': tool('shout(text: str) -> str', 'text.upper()'),
      'pair.py': tool('pair(a: str, b: int, sep: str, t: float) -> dict', '{"x": f"{a}{sep}{b}", "t": t}'),
      'pick.py': tool('pick(v: str, k: str) -> int', 'len(v) + len(k)'),
    });
    // plain values (named by the batch's table, not sent) and a text that is not ASCII (sent)
    const lines = [
      { q: 'hello', n: 3 },
      { q: 'é "quoted"\n', n: 7 },
      { q: 'a\tb', n: -1 },
    ];
    const data = path.join(dir, 'lines.jsonl');
    fs.writeFileSync(data, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const batch = await runCli(['batch', dir, '--data', data, '--workers', '2', '--json']);
    assert.strictEqual(batch.code, 0, batch.stderr + batch.stdout);
    const spans = traceFile(dir, json<{ runId: string }>(batch).runId);
    const valuesOf = (nodes: OtlpSpan[]) =>
      Object.fromEntries(nodes.map((s) => [s.name, [attr(s, 'flowsession.inputs'), attr(s, 'flowsession.output')]]));
    for (const [i, inputs] of lines.entries()) {
      const line = byName(spans, `line ${i}`);
      const inBatch = valuesOf(spans.filter((s) => s.parentSpanId === line.spanId));
      const file = path.join(dir, `inputs-${i}.json`);
      fs.writeFileSync(file, JSON.stringify(inputs));
      const run = await runCli(['run', dir, '--inputs-file', file, '--json']);
      assert.strictEqual(run.code, 0, run.stderr);
      const runSpans = traceFile(dir, json<{ runId: string }>(run).runId);
      const inRun = valuesOf(runSpans.filter((s) => s.parentSpanId === byName(runSpans, 'flow').spanId));
      assert.deepStrictEqual(inBatch, inRun, `line ${i}`);
      assert.deepStrictEqual(Object.keys(inBatch).sort(), ['pair', 'pick', 'shout']);
    }
    assert.strictEqual(
      attr(spans.filter((s) => s.name === 'pair')[0], 'flowsession.inputs'),
      '{"a":"HELLO","b":3,"sep":" + ","t":0.5}',
      'as the runtime writes them',
    );
  });

  it('a collector that cannot be reached is a warning: the run still completes', async () => {
    const dir = jar.make(FLOW);
    const r = await runCli(['run', dir, '--connections', connectionsFile, '--json'], {
      TEST_LLM_KEY: SECRET,
      FLOWSESSION_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    });
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: The trace could not be exported to http:\/\/127\.0\.0\.1:9/);
    assert.ok(fs.existsSync(path.join(dir, '.promptflow', 'runs', json<{ runId: string }>(r).runId, 'trace.json')));
  });

  it('a batch over engines (--engines) keeps one span per line under its chunk, with its tokens and the export', async () => {
    const dir = jar.make(FLOW);
    const data = path.join(dir, 'lines.jsonl');
    fs.writeFileSync(data, ['a?', 'b?', 'c?', 'd?', 'e?'].map((q) => JSON.stringify({ question: q })).join('\n') + '\n');
    const before = collector.requests.length;
    const record = await runMultiEngineBatch(dir, [{ name: 'local', manager }], {
      dataFile: data,
      workers: 1,
      minChunkLines: 2,
      connections: readConnectionsFile(connectionsFile, { TEST_LLM_KEY: SECRET }),
      tracing: { otlpEndpoint: collector.url },
    });
    assert.strictEqual(record.status, 'Completed', JSON.stringify(record.error));
    assert.deepStrictEqual(record.tokens, { input: 5 * 11, output: 5 * 4, total: 5 * 15 });
    const spans = traceFile(dir, record.runId);
    const chunks = spans.filter((s) => /^chunk \d+ on local$/.test(s.name));
    // one engine takes every line in one share; the line numbers of later shares are mapped as the unit test shows
    assert.ok(chunks.length >= 1, `a chunk root: ${spans.map((s) => s.name).join(', ')}`);
    for (const i of [0, 1, 2, 3, 4]) {
      const line = byName(spans, `line ${i}`);
      assert.strictEqual(attr(line, 'flowsession.line_number'), i);
      assert.ok(
        chunks.some((c) => c.spanId === line.parentSpanId && c.traceId === line.traceId),
        `line ${i} is under its chunk`,
      );
    }
    assert.strictEqual(spans.filter((s) => s.name.startsWith('line ')).length, 5, 'each line once');
    assert.strictEqual(collector.requests.length, before + 1);
    assert.ok(!collector.requests[before].body.includes(SECRET));
  });
});
