import * as assert from 'assert';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { connectionSecrets, exportOtlp, fromOtlp, redactSpans, toOtlp, tracesUrl } from '../../../../src/core/runs/otlp';
import type { TraceSpan } from '../../../../src/shared/trace';

const SPANS: TraceSpan[] = [
  {
    traceId: 'ab'.repeat(16),
    spanId: '01'.repeat(8),
    name: 'flow',
    kind: 'flow',
    start: '1700000000000000000',
    end: '1700000000100000000',
    status: 'Ok',
    attributes: { span_type: 'Flow' },
  },
  {
    traceId: 'ab'.repeat(16),
    spanId: '02'.repeat(8),
    parentSpanId: '01'.repeat(8),
    name: 'chat gpt-4o',
    kind: 'llm',
    start: '1700000000010000000',
    end: '1700000000090000000',
    status: 'Error',
    statusMessage: 'boom',
    attributes: {
      'gen_ai.system': 'openai',
      'gen_ai.usage.input_tokens': 7,
      'gen_ai.request.temperature': 0.5,
      'flowsession.node.aggregation': true,
      'gen_ai.response.finish_reasons': ['stop', 'length'],
    },
  },
  {
    traceId: 'ab'.repeat(16),
    spanId: '03'.repeat(8),
    parentSpanId: '01'.repeat(8),
    name: 'entry',
    kind: 'node',
    start: '1700000000001000000',
    end: '1700000000099000000',
    status: 'Ok',
    attributes: { span_type: 'Function', 'flowsession.node.name': 'entry', 'flowsession.node.type': 'flex' },
  },
  {
    traceId: 'ab'.repeat(16),
    spanId: '04'.repeat(8),
    parentSpanId: '03'.repeat(8),
    name: 'Helper.shout',
    kind: 'function',
    start: '1700000000002000000',
    end: '1700000000003000000',
    status: 'Ok',
    attributes: { span_type: 'Function', function: 'Helper.shout' },
  },
];

describe('OTLP/JSON', () => {
  it('puts spans in the OTLP shape: resource, scope, hex ids, nanosecond strings, typed attributes, kinds and status codes', () => {
    const doc = toOtlp(SPANS, { flow: 'my-flow', runId: 'r1' });
    const rs = doc.resourceSpans[0];
    assert.deepStrictEqual(rs.resource.attributes[0], { key: 'service.name', value: { stringValue: 'flowsession' } });
    const [flow, llm, entry, fn] = rs.scopeSpans[0].spans;
    assert.deepStrictEqual([entry.kind, fn.kind], [1, 1], 'a node and a traced function are internal spans');
    assert.strictEqual(rs.scopeSpans[0].scope.name, 'flowsession');
    assert.strictEqual(flow.parentSpanId, undefined);
    assert.strictEqual(flow.kind, 1);
    assert.deepStrictEqual(flow.status, { code: 1 });
    assert.strictEqual(llm.kind, 3);
    assert.strictEqual(llm.parentSpanId, '01'.repeat(8));
    assert.strictEqual(llm.startTimeUnixNano, '1700000000010000000');
    assert.deepStrictEqual(llm.status, { code: 2, message: 'boom' });
    assert.deepStrictEqual(llm.attributes, [
      { key: 'gen_ai.system', value: { stringValue: 'openai' } },
      { key: 'gen_ai.usage.input_tokens', value: { intValue: '7' } },
      { key: 'gen_ai.request.temperature', value: { doubleValue: 0.5 } },
      { key: 'flowsession.node.aggregation', value: { boolValue: true } },
      { key: 'gen_ai.response.finish_reasons', value: { arrayValue: { values: [{ stringValue: 'stop' }, { stringValue: 'length' }] } } },
    ]);
  });

  it('reads trace.json back to the same spans and kinds (a node names itself, a traced function does not), skipping what is not a span', () => {
    const doc = toOtlp(SPANS, { flow: 'f', runId: 'r' });
    (doc.resourceSpans[0].scopeSpans[0].spans as unknown[]).push({ traceId: 'not hex!', spanId: 'x' }, null);
    assert.deepStrictEqual(fromOtlp(JSON.parse(JSON.stringify(doc))), SPANS);
    assert.deepStrictEqual(fromOtlp({ resourceSpans: 'nope' }), []);
    assert.deepStrictEqual(fromOtlp(null), []);
  });

  it('masks every connection secret in names, attributes and status messages', () => {
    const secrets = connectionSecrets({
      a: { type: 'OpenAIConnection', api_key: 'sk-123456789' },
      c: { type: 'CustomConnection', secrets: { token: 'tok-abcdef' }, configs: { endpoint: 'http://e' } },
      short: { type: 'CustomConnection', api_key: 'ab' },
    });
    assert.deepStrictEqual(secrets, ['sk-123456789', 'tok-abcdef']);
    const leaky: TraceSpan = {
      ...SPANS[1],
      name: 'x sk-123456789',
      statusMessage: 'bad tok-abcdef',
      attributes: { out: 'key=sk-123456789', n: 3 },
    };
    const [clean] = redactSpans([leaky], secrets);
    assert.ok(!JSON.stringify(clean).includes('sk-123456789') && !JSON.stringify(clean).includes('tok-abcdef'));
    assert.strictEqual(clean.attributes.out, 'key=***');
    assert.strictEqual(clean.attributes.n, 3);
  });

  it('finds /v1/traces under the endpoint unless the endpoint names it', () => {
    assert.strictEqual(tracesUrl('http://127.0.0.1:4318'), 'http://127.0.0.1:4318/v1/traces');
    assert.strictEqual(tracesUrl('http://h:4318/'), 'http://h:4318/v1/traces');
    assert.strictEqual(tracesUrl('http://h:4318/v1/traces'), 'http://h:4318/v1/traces');
  });

  it('exports with a POST of JSON and reports a refusal, an unreachable collector or a bad URL as text, never a throw', async () => {
    const bodies: string[] = [];
    let status = 200;
    const server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${req.headers['content-type']} ${raw}`);
        res.writeHead(status);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      assert.strictEqual(await exportOtlp(url, SPANS, { flow: 'f', runId: 'r' }), undefined);
      assert.match(bodies[0], /^POST \/v1\/traces application\/json \{"resourceSpans"/);
      status = 503;
      assert.match((await exportOtlp(url, SPANS, { flow: 'f', runId: 'r' })) ?? '', /HTTP 503/);
    } finally {
      server.close();
    }
    assert.match((await exportOtlp('http://127.0.0.1:9', SPANS, { flow: 'f', runId: 'r' })) ?? '', /could not be exported/);
    assert.match((await exportOtlp('file:///etc/passwd', SPANS, { flow: 'f', runId: 'r' })) ?? '', /not an http\(s\) URL/);
  });
});
