import * as assert from 'assert';
import { PassThrough } from 'stream';
import type { ExecSession } from '../../../../src/core/docker/engine';
import { RuntimeClient } from '../../../../src/core/runtime/client';
import { Methods, type RuntimeEvent } from '../../../../src/core/runtime/protocol';

function fakeRuntime(): { client: RuntimeClient; send(line: string): void; write(bytes: string): void; requests: string[] } {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const requests: string[] = [];
  stdin.setEncoding('utf8');
  stdin.on('data', (chunk: string) => requests.push(...chunk.split('\n').filter(Boolean)));
  const session: ExecSession = { stdin, stdout, stderr, exited: new Promise<number>(() => undefined), close: () => undefined };
  return { client: new RuntimeClient(session), send: (line) => stdout.write(`${line}\n`), write: (bytes) => stdout.write(bytes), requests };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('RuntimeClient events', () => {
  it('delivers the declared events, told apart by their name', async () => {
    const { client, send } = fakeRuntime();
    const seen: string[] = [];
    client.onEvent((e: RuntimeEvent) => {
      if (e.event === 'nodeLog') seen.push(`${e.node}:${e.stream}:${e.text}`);
      else if (e.event === 'lineEnd') seen.push(`line ${e.index} ${e.status}`);
      else if (e.event === 'debugListening') seen.push(`debugger on ${e.port}`);
      else if (e.event === 'traceSteps') seen.push(`steps ${e.steps.map((s) => s.name).join(',')}`);
      else seen.push(`${e.event} ${e.node}`);
    });
    send(JSON.stringify({ event: 'nodeStart', runId: 'r', node: 'a' }));
    send(JSON.stringify({ event: 'nodeLog', runId: 'r', node: 'a', stream: 'stdout', text: 'hi' }));
    send(JSON.stringify({ event: 'nodeEnd', runId: 'r', node: 'a', status: 'Completed', durationMs: 1 }));
    send(JSON.stringify({ event: 'lineEnd', runId: 'r', index: 2, status: 'Failed', durationMs: 1 }));
    send(JSON.stringify({ event: 'debugListening', runId: 'r', port: 40123 }));
    send(JSON.stringify({ event: 'traceSteps', runId: 'r', traceId: 'ab', parentSpanId: 'cd', steps: [{ name: 'a', attributes: {} }] }));
    await tick();
    assert.deepStrictEqual(seen, ['nodeStart a', 'a:stdout:hi', 'nodeEnd a', 'line 2 Failed', 'debugger on 40123', 'steps a']);
  });

  it('drops an event the protocol does not declare, and takes no response from it', async () => {
    const { client, send } = fakeRuntime();
    const seen: unknown[] = [];
    client.onEvent((e) => seen.push(e));
    const pong = client.request(Methods.ping, {});
    send(JSON.stringify({ event: 'somethingElse', id: 1, result: { pong: false } }));
    send(JSON.stringify({ id: 1, result: { pong: true } }));
    assert.deepStrictEqual(await pong, { pong: true });
    assert.deepStrictEqual(seen, []);
  });

  it('hands on each line of a lineEnds message as a lineEnd event of its run, in the order they came', async () => {
    const { client, send } = fakeRuntime();
    const seen: RuntimeEvent[] = [];
    client.onEvent((e) => seen.push(e));
    const lines = [
      { index: 3, status: 'Completed', durationMs: 1, output: { y: 1 } },
      { index: 1, status: 'Failed', durationMs: 0, error: { code: 'RuntimeCrashed', message: 'gone' } },
    ];
    send(JSON.stringify({ event: 'lineEnds', runId: 'b', lines }));
    send(JSON.stringify({ event: 'lineEnds', runId: 'b', lines: 'not a list' }));
    await tick();
    assert.deepStrictEqual(
      seen,
      lines.map((l) => ({ ...l, event: 'lineEnd', runId: 'b' })),
    );
  });

  it('takes messages split across chunks anywhere, several in one chunk', async () => {
    const { client, write } = fakeRuntime();
    const seen: number[] = [];
    client.onEvent((e) => {
      if (e.event === 'lineEnd') seen.push(e.index);
    });
    const text = [0, 1, 2].map((i) => `${JSON.stringify({ event: 'lineEnd', runId: 'r', index: i, status: 'Completed', durationMs: 1 })}\n`).join('');
    for (const piece of [text.slice(0, 7), text.slice(7, 9), text.slice(9, text.length - 40), text.slice(text.length - 40)]) {
      write(piece);
      await tick();
    }
    assert.deepStrictEqual(seen, [0, 1, 2]);
  });

  it('passes lines that are not JSON objects on as output', async () => {
    const { client, send } = fakeRuntime();
    const out: string[] = [];
    client.onStderr((t) => out.push(t));
    send('not json');
    send('null');
    send('42');
    await tick();
    assert.deepStrictEqual(out, ['not json\n', 'null\n', '42\n']);
  });
});
