import * as assert from 'assert';
import type { DapMessage } from '../../../../src/core/debug/dapFraming';
import { DebugBridge, type AdapterChannel } from '../../../../src/core/debug/debugBridge';

/** debugpy's side, as the bridge sees it: what it was sent, and a way to answer or go away. */
function fakeAdapter() {
  const sent: DapMessage[] = [];
  const listeners: ((m: DapMessage) => void)[] = [];
  let close: (why: string) => void = () => undefined;
  const closed = new Promise<string>((resolve) => (close = resolve));
  let closedWith: string | undefined;
  const channel: AdapterChannel = {
    send: (m) => sent.push(m),
    onMessage: (l) => {
      listeners.push(l);
      return () => undefined;
    },
    closed,
    close: (why = 'closed') => {
      closedWith = why;
      close(why);
    },
  };
  return {
    channel,
    sent,
    say: (m: DapMessage) => listeners.forEach((l) => l(m)),
    goAway: () => close('gone'),
    closedWith: () => closedWith,
  };
}

const tick = () => new Promise((r) => setImmediate(r));

function setup(runEnded: Promise<string | undefined> = new Promise(() => undefined)) {
  const adapter = fakeAdapter();
  let stops = 0;
  const bridge = new DebugBridge(adapter.channel, {
    attachArguments: { request: 'attach', pathMappings: [] },
    stopRun: () => stops++,
    runEnded,
  });
  const toClient: DapMessage[] = [];
  bridge.onMessage((m) => toClient.push(m));
  return { adapter, bridge, toClient, stops: () => stops };
}

describe('DebugBridge between a DAP client and debugpy', () => {
  it("passes messages through, turning the client's launch into debugpy's attach and its answer back", () => {
    const { adapter, bridge, toClient } = setup();
    bridge.fromClient({ seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'flowsession' } });
    bridge.fromClient({ seq: 2, type: 'request', command: 'launch', arguments: { flow: '/f', inputs: {} } });
    bridge.fromClient({ seq: 3, type: 'request', command: 'setBreakpoints', arguments: { source: { path: '/f/a.py' } } });
    assert.deepStrictEqual(
      adapter.sent.map((m) => [m.seq, m.command, m.arguments]),
      [
        [1, 'initialize', { adapterID: 'flowsession' }],
        [2, 'attach', { request: 'attach', pathMappings: [] }],
        [3, 'setBreakpoints', { source: { path: '/f/a.py' } }],
      ],
    );
    adapter.say({ seq: 7, type: 'response', request_seq: 2, command: 'attach', success: true });
    adapter.say({ seq: 8, type: 'event', event: 'stopped', body: { reason: 'breakpoint', threadId: 1 } });
    assert.deepStrictEqual(
      toClient.map((m) => [m.type, m.command ?? m.event]),
      [
        ['response', 'launch'],
        ['event', 'stopped'],
      ],
    );
  });

  it('answers disconnect and terminate itself, ends the run once and tells the client the session is over', async () => {
    const { adapter, bridge, toClient, stops } = setup();
    bridge.fromClient({ seq: 9, type: 'request', command: 'disconnect', arguments: { terminateDebuggee: true } });
    bridge.fromClient({ seq: 10, type: 'request', command: 'terminate' });
    bridge.dispose();
    await tick();
    assert.strictEqual(stops(), 1);
    assert.deepStrictEqual(adapter.sent, []);
    assert.deepStrictEqual(
      toClient.map((m) => [m.type, m.command ?? m.event, m.request_seq]),
      [
        ['response', 'disconnect', 9],
        ['event', 'terminated', undefined],
        ['response', 'terminate', 10],
      ],
    );
    assert.ok(adapter.closedWith());
  });

  it("when debugpy ends (the run is over) the client hears the run's outcome, then one terminated", async () => {
    let ended: (line: string | undefined) => void = () => undefined;
    const { adapter, toClient, stops } = setup(new Promise((r) => (ended = r)));
    adapter.say({ seq: 1, type: 'event', event: 'exited', body: { exitCode: 0 } });
    adapter.say({ seq: 2, type: 'event', event: 'terminated' });
    adapter.goAway();
    await tick();
    assert.deepStrictEqual(
      toClient.map((m) => m.event),
      ['exited'],
    );
    ended('Run r1 completed in 0.2 s: {"a":1}');
    await tick();
    assert.deepStrictEqual(
      toClient.map((m) => [m.event, m.body?.output]),
      [
        ['exited', undefined],
        ['output', 'Run r1 completed in 0.2 s: {"a":1}\n'],
        ['terminated', undefined],
      ],
    );
    assert.strictEqual(stops(), 0, 'a finished run is not cancelled');
  });

  it('answers what the client asks after the end, so it never waits for an adapter that is gone', async () => {
    const { adapter, bridge, toClient } = setup(Promise.resolve(undefined));
    adapter.goAway();
    await tick();
    await tick();
    bridge.fromClient({ seq: 1, type: 'request', command: 'initialize' });
    bridge.fromClient({ seq: 2, type: 'request', command: 'disconnect' });
    assert.deepStrictEqual(adapter.sent, []);
    assert.deepStrictEqual(
      toClient.map((m) => [m.event ?? m.command, m.success, m.message]),
      [
        ['terminated', undefined, undefined],
        ['initialize', false, 'The debug session has ended.'],
        ['disconnect', true, undefined],
      ],
    );
  });
});
