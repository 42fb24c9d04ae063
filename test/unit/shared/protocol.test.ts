import * as assert from 'assert';
import { MESSAGE_LIMITS, parseWebviewMessage } from '../../../src/shared/protocol';

function refused(raw: unknown): string {
  const r = parseWebviewMessage(raw);
  assert.strictEqual(r.ok, false, `accepted ${JSON.stringify(raw)?.slice(0, 200)}`);
  return r.ok ? '' : r.reason;
}

describe('panel protocol: messages from the webview', () => {
  it('accepts each well-formed message as it is', () => {
    const good = [
      { type: 'ready' },
      { type: 'startSession' },
      { type: 'resetSession' },
      { type: 'refreshPackages' },
      { type: 'cancel', runId: 'hello-flow_run_20250101_120000_abc123' },
      { type: 'openFile', runId: 'hello-flow_run_20250101_120000_abc123', file: 'flow.output.json' },
      { type: 'run', inputs: { name: 'World', excited: true, count: '3', items: '["a"]' } },
      { type: 'run', inputs: {} },
      { type: 'chatSend', message: 'What is a session?', inputs: { style: 'brief' } },
      { type: 'chatClear' },
      { type: 'openNodeSource', node: 'fetch_text-content_from.url' },
      { type: 'openValue', runId: 'r1', kind: 'node', name: 'summarize' },
      { type: 'openValue', runId: 'r1', kind: 'output', name: 'answer' },
      { type: 'compareRuns', runIds: ['r1', 'r2', 'r3'] },
      { type: 'compareRuns', runIds: [] },
      { type: 'showTrace', runId: 'r1' },
      { type: 'hideTrace' },
    ];
    for (const m of good) {
      const r = parseWebviewMessage(m);
      assert.ok(r.ok, JSON.stringify(m));
      assert.deepStrictEqual(r.ok && r.message, m);
    }
  });

  it('refuses chat messages that are empty, too long, not text, or carry more than message and inputs', () => {
    assert.match(refused({ type: 'chatSend', message: '  \n', inputs: {} }), /message is empty/);
    assert.match(refused({ type: 'chatSend', message: 'x'.repeat(MESSAGE_LIMITS.inputValueChars + 1), inputs: {} }), /too long/);
    assert.match(refused({ type: 'chatSend', message: ['hi'], inputs: {} }), /message must be text/);
    assert.match(refused({ type: 'chatSend', message: 'hi', inputs: {}, history: [] }), /unexpected field 'history'/);
    assert.match(refused({ type: 'chatSend', message: 'hi', inputs: { __proto__x: 1 } }), /bad input name|must be text/);
    assert.match(refused({ type: 'chatSend', message: 'hi' }), /inputs must be an object/);
    assert.match(refused({ type: 'chatClear', all: true }), /unexpected field 'all'/);
  });

  it('refuses what is not a message object', () => {
    for (const raw of [undefined, null, 42, 'ready', [], [{ type: 'ready' }], new Date(), { type: 7 }, {}]) refused(raw);
  });

  it('refuses unknown types and extra fields', () => {
    assert.match(refused({ type: 'exec', command: 'rm -rf /' }), /unknown type/);
    assert.match(refused({ type: 'ready', flowDir: '/etc' }), /unexpected field 'flowDir'/);
    refused({ type: 'run', inputs: {}, connections: { open_ai: { api_key: 'x' } } });
    refused({ type: 'cancel', runId: 'r1', signal: 'KILL' });
  });

  it('refuses forged run ids and file names (paths, traversal, wrong types)', () => {
    for (const runId of ['', '../../etc', 'a/b', 'a\\b', '..', '.hidden', 'x'.repeat(MESSAGE_LIMITS.runIdChars + 1), 7, null, ['r']]) {
      refused({ type: 'cancel', runId });
      refused({ type: 'openFile', runId, file: 'flow.log' });
    }
    for (const file of [
      '',
      '../flow.log',
      '/etc/passwd',
      'sub/flow.log',
      '..',
      '.env',
      'a..b',
      'x'.repeat(300),
      1,
      { toString: () => 'flow.log' },
    ]) {
      refused({ type: 'openFile', runId: 'r1', file });
    }
    refused({ type: 'openFile', runId: 'r1' });
  });

  it('refuses run inputs of the wrong shape or size', () => {
    refused({ type: 'run' });
    refused({ type: 'run', inputs: [] });
    refused({ type: 'run', inputs: 'name=x' });
    refused({ type: 'run', inputs: { name: 3 } });
    refused({ type: 'run', inputs: { name: null } });
    refused({ type: 'run', inputs: { name: { nested: 'object' } } });
    refused({ type: 'run', inputs: { 'not a name': 'x' } });
    refused({ type: 'run', inputs: JSON.parse('{"__proto__": "x"}') });
    refused({ type: 'run', inputs: { constructor: 'x' } });
    refused({ type: 'run', inputs: { big: 'x'.repeat(MESSAGE_LIMITS.inputValueChars + 1) } });
    const many = Object.fromEntries(Array.from({ length: MESSAGE_LIMITS.inputs + 1 }, (_, i) => [`i${i}`, 'x']));
    refused({ type: 'run', inputs: many });
    // each value within its limit, all of them together over the total
    const half = MESSAGE_LIMITS.inputValueChars;
    const total = Object.fromEntries(
      Array.from({ length: Math.ceil(MESSAGE_LIMITS.totalInputChars / half) + 1 }, (_, i) => [`i${i}`, 'x'.repeat(half)]),
    );
    assert.match(refused({ type: 'run', inputs: total }), /too long/);
  });

  it('refuses objects that are not plain (class instances, prototypes carrying fields)', () => {
    class Msg {
      type = 'ready';
    }
    refused(new Msg());
    const inherits = Object.create({ inputs: { name: 'x' } }) as Record<string, unknown>;
    inherits.type = 'run';
    refused(inherits);
  });

  it('gives back a copy of the inputs, not the object it was sent', () => {
    const inputs = { name: 'x' };
    const r = parseWebviewMessage({ type: 'run', inputs });
    assert.ok(r.ok && r.message.type === 'run');
    assert.notStrictEqual(r.message.inputs, inputs);
  });

  it('refuses graph, value and comparison requests that name no node, a bad kind or the wrong runs', () => {
    assert.match(refused({ type: 'openNodeSource', node: '../x' }), /not a node or output name/);
    refused({ type: 'openNodeSource', node: 'x'.repeat(MESSAGE_LIMITS.nameChars + 1) });
    refused({ type: 'openNodeSource' });
    assert.match(refused({ type: 'openValue', runId: 'r1', kind: 'file', name: 'a' }), /kind/);
    refused({ type: 'openValue', runId: 'r1', kind: 'node', name: 'a', path: '/etc' });
    assert.match(refused({ type: 'compareRuns', runIds: ['r1'] }), /two runs or more/);
    assert.match(refused({ type: 'compareRuns', runIds: ['r1', 'r1'] }), /twice/);
    assert.match(refused({ type: 'compareRuns', runIds: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] }), /too many/);
    refused({ type: 'compareRuns', runIds: ['r1', 'a/b'] });
    refused({ type: 'compareRuns', runIds: 'r1,r2' });
  });
});
