import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { RunOptions, RunRecord } from '../../../../src/core/runs/runService';
import { sessionKey } from '../../../../src/core/session/labels';
import type { HostMessage } from '../../../../src/shared/protocol';
import { PanelController, type PanelHost } from '../../../../src/ui/panel/panelController';
import type { PanelServices } from '../../../../src/ui/panel/panelServices';
import { chatFlowYaml } from '../../../support/flows/fixtures';
import { waitUntil } from '../../../support/waiting';

const CHAT_FLOW = chatFlowYaml(`- name: chat
  type: python
  source: {type: code, path: chat.py}
  inputs:
    question: \${inputs.question}
`);

function until(cond: () => boolean, what: string): Promise<boolean> {
  return waitUntil(what, 2000, cond, 5);
}

/** A panel over a chat flow whose runs answer "echo: <question>" in two streamed chunks, or fail for "boom". */
function chatPanel(flowDir: string) {
  const posted: HostMessage[] = [];
  const runs: Record<string, unknown>[] = [];
  const gate: { release?: () => void } = {};
  const services: PanelServices = {
    extensionUri: undefined as never,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    connectionsFor: async () => ({}),
    sessions: {
      status: async (dir: string) => ({ flowDir: dir, key: sessionKey(dir), state: 'ready', outdated: false, engine: 'e' }),
      packages: async () => [],
      up: async () => undefined as never,
      reset: async () => undefined as never,
      onDidChange: () => ({ dispose: () => undefined }),
    },
    runs: {
      run: async (dir: string, options: RunOptions = {}): Promise<RunRecord> => {
        runs.push(JSON.parse(JSON.stringify(options.inputs)));
        const runId = options.runId!;
        const q = String(options.inputs?.question);
        const base = { runId, flowDir: dir, startedAt: 't', durationMs: 1, files: [] };
        if (q === 'boom')
          return {
            ...base,
            status: 'Failed',
            outputs: null,
            error: { code: 'ToolExecutionError', message: 'Execution failure in chat', node: 'chat' },
          };
        for (const text of ['echo: ', q]) {
          options.onEvent?.({ event: 'outputStream', runId, node: 'chat', outputs: ['answer'], text });
          if (q === 'wait' && text === 'echo: ') await new Promise<void>((r) => (gate.release = r));
        }
        return { ...base, status: 'Completed', outputs: { answer: `echo: ${q}` } };
      },
      cancel: async () => true,
    },
  };
  const host: PanelHost = {
    postMessage: async (m) => {
      posted.push(JSON.parse(JSON.stringify(m)) as HostMessage);
      return true;
    },
    openFile: async () => undefined,
    confirmReset: async () => true,
    openSource: async () => undefined,
    openUntitled: async () => undefined,
  };
  return { controller: new PanelController(services, flowDir, host), posted, runs, gate };
}

describe('panel controller: chat flows', () => {
  let flowDir: string;
  beforeEach(() => {
    flowDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-panel-chat-')));
    fs.writeFileSync(path.join(flowDir, 'flow.dag.yaml'), CHAT_FLOW);
    fs.writeFileSync(
      path.join(flowDir, 'chat.py'),
      'from promptflow import tool\n\n\n@tool\ndef chat(question: str) -> str:\n    return question\n',
    );
  });
  afterEach(() => fs.rmSync(flowDir, { recursive: true, force: true }));

  it('keeps the history turn by turn, streams each answer, shows a failed turn inline and clears', async () => {
    const { controller, posted, runs } = chatPanel(flowDir);
    controller.start();
    await controller.handleMessage({ type: 'ready' });
    await until(() => controller.snapshot.chat !== null, 'the chat view');
    assert.deepStrictEqual({ ...controller.snapshot.chat }, { input: 'question', history: 'chat_history', output: 'answer', turns: [] });

    await controller.handleMessage({ type: 'chatSend', message: 'Hi?', inputs: { style: 'long' } });
    assert.deepStrictEqual(runs[0], { style: 'long', question: 'Hi?', chat_history: [] });
    assert.ok(
      posted.some((m) => m.type === 'runEvent' && m.event.event === 'outputStream' && m.event.text === 'Hi?'),
      'the answer streamed to the webview',
    );
    // a forged history or chat input in the form's inputs does not reach the run
    await controller.handleMessage({
      type: 'chatSend',
      message: 'And?',
      inputs: { style: 'long', question: 'forged', chat_history: '[]' },
    });
    assert.deepStrictEqual(runs[1], {
      style: 'long',
      question: 'And?',
      chat_history: [{ inputs: { style: 'long', question: 'Hi?' }, outputs: { answer: 'echo: Hi?' } }],
    });
    await controller.handleMessage({ type: 'chatSend', message: 'boom', inputs: {} });
    const chat = controller.snapshot.chat!;
    assert.strictEqual(chat.pending, undefined);
    assert.deepStrictEqual(JSON.parse(JSON.stringify(chat.turns)), [
      { message: 'Hi?', answer: 'echo: Hi?' },
      { message: 'And?', answer: 'echo: And?' },
      { message: 'boom', error: { code: 'ToolExecutionError', message: 'Execution failure in chat', node: 'chat' } },
    ]);
    // the failed turn is not history
    await controller.handleMessage({ type: 'chatSend', message: 'Again', inputs: {} });
    assert.strictEqual((runs[3].chat_history as unknown[]).length, 2);

    await controller.handleMessage({ type: 'chatClear' });
    assert.deepStrictEqual(controller.snapshot.chat?.turns, []);
    await controller.handleMessage({ type: 'chatSend', message: 'Fresh', inputs: {} });
    assert.deepStrictEqual(runs[4].chat_history, []);
    controller.dispose();
  });

  it('keeps a turn under way when flow.dag.yaml is saved with the same chat shape meanwhile', async () => {
    const { controller, gate } = chatPanel(flowDir);
    controller.start();
    await until(() => controller.snapshot.chat !== null, 'the chat view');
    const sent = controller.handleMessage({ type: 'chatSend', message: 'wait', inputs: {} });
    await until(() => gate.release !== undefined, 'the turn to stream');
    assert.strictEqual(controller.snapshot.chat?.pending?.message, 'wait');
    assert.deepStrictEqual(controller.snapshot.run?.streamed, { answer: 'echo: ' });
    fs.appendFileSync(path.join(flowDir, 'flow.dag.yaml'), '# saved again\n');
    await controller.refreshFields();
    assert.strictEqual(controller.snapshot.chat?.pending?.message, 'wait');
    gate.release!();
    await sent;
    assert.deepStrictEqual(controller.snapshot.chat?.turns, [{ message: 'wait', answer: 'echo: wait' }]);
    controller.dispose();
  });

  it('says why a flow that marks a chat input cannot chat, and refuses to send', async () => {
    fs.writeFileSync(
      path.join(flowDir, 'flow.dag.yaml'),
      CHAT_FLOW.replace('    type: list\n    is_chat_history: true', '    type: string\n    is_chat_history: true'),
    );
    const { controller, runs } = chatPanel(flowDir);
    controller.start();
    await until(() => controller.snapshot.chat !== null, 'the chat view');
    assert.match(controller.snapshot.chat?.problem ?? '', /must be of type list/);
    await controller.handleMessage({ type: 'chatSend', message: 'Hi?', inputs: {} });
    assert.strictEqual(runs.length, 0);
    assert.match(controller.snapshot.notice?.message ?? '', /must be of type list/);
    controller.dispose();
  });

  it('has no chat for a flow without a chat input', async () => {
    fs.writeFileSync(path.join(flowDir, 'flow.dag.yaml'), CHAT_FLOW.replace('    is_chat_input: true\n', ''));
    const { controller, runs } = chatPanel(flowDir);
    controller.start();
    await until(() => controller.snapshot.fields.length > 0, 'the form');
    assert.strictEqual(controller.snapshot.chat, null);
    await controller.handleMessage({ type: 'chatSend', message: 'Hi?', inputs: {} });
    assert.strictEqual(runs.length, 0);
    controller.dispose();
  });
});
