import * as assert from 'assert';
import { chatEntries } from '../../../src/webview/views/chatView';
import type { ChatView, RunView } from '../../../src/shared/protocol';
import { applyHostMessage, emptyState, STATE_LIMITS } from '../../../src/shared/panelState';

const CHAT: ChatView = { input: 'question', history: 'chat_history', output: 'answer', turns: [] };

function run(runId: string, streamed?: Record<string, string>): RunView {
  return { runId, status: 'Running', startedAt: 't', nodes: [], ...(streamed ? { streamed } : {}) };
}

describe('chat view (webview)', () => {
  it('shows nothing for a flow that is not a chat flow', () => {
    assert.deepStrictEqual(chatEntries(null, null), []);
  });

  it('lists each turn as the message then its answer, or its error in place of the answer', () => {
    const chat: ChatView = {
      ...CHAT,
      turns: [
        { message: 'Hi?', answer: 'Hello.' },
        { message: 'Boom?', error: { code: 'ToolExecutionError', message: 'Execution failure in chat' } },
      ],
    };
    assert.deepStrictEqual(chatEntries(chat, null), [
      { role: 'user', text: 'Hi?' },
      { role: 'assistant', text: 'Hello.' },
      { role: 'user', text: 'Boom?' },
      { role: 'error', error: { code: 'ToolExecutionError', message: 'Execution failure in chat' } },
    ]);
  });

  it('shows the turn under way with the chat output streamed so far, and only from its own run', () => {
    const chat: ChatView = { ...CHAT, pending: { runId: 'r2', message: 'Next?' } };
    assert.deepStrictEqual(chatEntries(chat, run('r2', { answer: 'echo: Ne', other: 'x' })).slice(-2), [
      { role: 'user', text: 'Next?' },
      { role: 'assistant', text: 'echo: Ne', streaming: true },
    ]);
    assert.deepStrictEqual(chatEntries(chat, run('r1', { answer: 'old' })).slice(-1), [{ role: 'assistant', text: '', streaming: true }]);
    assert.deepStrictEqual(chatEntries(chat, run('r2')).slice(-1), [{ role: 'assistant', text: '', streaming: true }]);
  });

  it('streams the answer through the shared state: outputStream events append to the outputs they name, capped', () => {
    let s = applyHostMessage(emptyState('/f', 'f'), { type: 'chat', chat: { ...CHAT, pending: { runId: 'r1', message: 'Q' } } });
    s = applyHostMessage(s, { type: 'runStarted', runId: 'r1', startedAt: 't' });
    for (const text of ['echo:', ' one', ' two'])
      s = applyHostMessage(s, { type: 'runEvent', runId: 'r1', event: { event: 'outputStream', node: 'chat', outputs: ['answer'], text } });
    assert.strictEqual(s.run?.status, 'Running');
    assert.deepStrictEqual(s.run?.streamed, { answer: 'echo: one two' });
    assert.deepStrictEqual(chatEntries(s.chat, s.run).slice(-1), [{ role: 'assistant', text: 'echo: one two', streaming: true }]);
    // another run's chunks do not mix in
    const same = applyHostMessage(s, {
      type: 'runEvent',
      runId: 'r0',
      event: { event: 'outputStream', node: 'chat', outputs: ['answer'], text: '!' },
    });
    assert.strictEqual(same, s);
    const big = 'x'.repeat(STATE_LIMITS.streamedChars);
    s = applyHostMessage(s, {
      type: 'runEvent',
      runId: 'r1',
      event: { event: 'outputStream', node: 'chat', outputs: ['answer'], text: big },
    });
    assert.strictEqual(s.run?.streamed?.answer.length, STATE_LIMITS.streamedChars);
    assert.ok(s.run?.streamed?.answer.startsWith('echo: one two'));
  });

  it("shows a flex flow's or a prompty's output stream (no node) as its output streaming, with no node row", () => {
    let s = applyHostMessage(emptyState('/f', 'f'), { type: 'runStarted', runId: 'r1', startedAt: 't' });
    for (const text of ['part0;', 'part1;'])
      s = applyHostMessage(s, { type: 'runEvent', runId: 'r1', event: { event: 'outputStream', outputs: ['output'], text } });
    assert.deepStrictEqual(s.run?.streamed, { output: 'part0;part1;' });
    assert.deepStrictEqual(s.run?.nodes, []);
  });
});
