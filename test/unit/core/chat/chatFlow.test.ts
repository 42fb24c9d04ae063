import * as assert from 'assert';
import { answerText, chatShape, historyItem, isChatFlow, turnInputs, type ChatTurn } from '../../../../src/core/chat/chatFlow';
import { FlowSessionError } from '../../../../src/core/errors';

function flow(
  inputs: Record<string, unknown>,
  outputs: Record<string, unknown> = { answer: { reference: '${chat.output}', is_chat_output: true } },
) {
  return { inputs, outputs, nodes: [] };
}

const CHAT = flow({
  chat_history: { type: 'list', is_chat_history: true, default: [] },
  question: { type: 'string', is_chat_input: true },
  style: { type: 'string', default: 'brief' },
});

function refused(f: unknown, pattern: RegExp): void {
  assert.throws(
    () => chatShape(f),
    (e: unknown) => e instanceof FlowSessionError && e.kind === 'flow-definition-error' && pattern.test(e.message) && e.remedy.length > 0,
  );
}

describe('chat flows', () => {
  it('finds the chat input, the history input and the chat output', () => {
    assert.ok(isChatFlow(CHAT));
    assert.deepStrictEqual(chatShape(CHAT), { input: 'question', history: 'chat_history', output: 'answer' });
  });

  it('takes an input named chat_history as the history unless it says is_chat_history: false, as prompt flow does', () => {
    const named = flow({ chat_history: { type: 'list' }, q: { type: 'string', is_chat_input: true } });
    assert.strictEqual(chatShape(named).history, 'chat_history');
    refused(
      flow({ chat_history: { type: 'list', is_chat_history: false }, q: { type: 'string', is_chat_input: true } }),
      /chat_history is required/,
    );
  });

  it('refuses a flow without a chat input, with two, or with a history that is not a list', () => {
    assert.ok(!isChatFlow(flow({ q: { type: 'string' } })));
    refused(flow({ q: { type: 'string' }, chat_history: { type: 'list' } }), /none of its inputs is marked is_chat_input/);
    refused(
      flow({ a: { type: 'string', is_chat_input: true }, b: { type: 'string', is_chat_input: true }, chat_history: { type: 'list' } }),
      /one chat input; this one marks 'a', 'b'/,
    );
    refused(flow({ q: { type: 'string', is_chat_input: true } }), /chat_history is required in the inputs/);
    refused(
      flow({ q: { type: 'string', is_chat_input: true }, h: { type: 'string', is_chat_history: true } }),
      /chat history input 'h' must be of type list, not 'string'/,
    );
    refused(flow({ q: { type: 'list', is_chat_input: true, is_chat_history: true } }), /both the chat input and the chat history/);
  });

  it('needs one chat output when the flow has outputs; a flow without outputs chats with none', () => {
    const inputs = { q: { type: 'string', is_chat_input: true }, chat_history: { type: 'list' } };
    refused(flow(inputs, { a: { reference: '${x.output}' } }), /chat output is not configured/);
    refused(flow(inputs, { a: { is_chat_output: true }, b: { is_chat_output: true } }), /one chat output; this one marks 'a', 'b'/);
    assert.deepStrictEqual(chatShape(flow(inputs, {})), { input: 'q', history: 'chat_history' });
  });

  it('shapes each turn as prompt flow does: {inputs, outputs}, the history itself left out, the next turn getting copies', () => {
    const shape = chatShape(CHAT);
    const history: ChatTurn[] = [];
    const first = turnInputs(shape, { style: 'brief' }, 'Hi?', history);
    assert.deepStrictEqual(first, { style: 'brief', question: 'Hi?', chat_history: [] });
    history.push(historyItem(shape, first, { answer: 'Hello.' }));
    assert.deepStrictEqual(history, [{ inputs: { style: 'brief', question: 'Hi?' }, outputs: { answer: 'Hello.' } }]);
    const second = turnInputs(shape, { style: 'brief' }, 'And?', history);
    assert.deepStrictEqual(second.chat_history, [{ inputs: { style: 'brief', question: 'Hi?' }, outputs: { answer: 'Hello.' } }]);
    (second.chat_history as ChatTurn[])[0].outputs.answer = 'changed';
    assert.strictEqual(history[0].outputs.answer, 'Hello.', 'a run cannot change the kept history');
    // a message that names the chat input in the other inputs is still the message
    assert.strictEqual(turnInputs(shape, { question: 'other' }, 'mine', history).question, 'mine');
  });

  it('gives the answer as text: the chat output as is, JSON for other values, all outputs when none is marked', () => {
    const shape = chatShape(CHAT);
    assert.strictEqual(answerText(shape, { answer: 'Hello.' }), 'Hello.');
    assert.strictEqual(answerText(shape, { answer: { a: 1 } }), '{\n  "a": 1\n}');
    assert.strictEqual(answerText(shape, null), '');
    assert.strictEqual(answerText({ input: 'q', history: 'h' }, { x: 'y' }), '{\n  "x": "y"\n}');
  });
});
