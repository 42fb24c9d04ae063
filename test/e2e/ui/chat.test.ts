/**
 * The session panel's chat in a real VS Code (code-server + Chromium, the packaged extension) against the real
 * engine: a chat flow whose python tool streams its answer; the answer shows while it is produced, the history
 * reaches the next turn, a failed turn shows its error in place, Clear starts over. Run after `npm run build`:
 *   npx mocha -r ts-node/register/transpile-only --timeout 600000 test/e2e/ui/chat.test.ts
 * Sessions it makes carry flowsession.test=<run id> and are removed at the end.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { FrameLocator } from 'playwright-core';
import { resolveEndpoint } from '../../../src/core/docker/endpoint';
import { DockerEngine } from '../../../src/core/docker/dockerEngine';
import { chatFlowYaml, makeFlow } from '../../support/flows/fixtures';
import { waitUntil } from '../../support/waiting';
import { BASE_IMAGE, ensureBaseImages } from '../../support/world/baseImages';
import { cleanUp } from '../../support/world/world';
import { useWorkbench } from '../harness/mocha';

const RUN_ID = `run-${Date.now().toString(36)}-${process.pid}`;
const RUN_TIMEOUT_MS = 240_000;
const GATE = `/tmp/flowsession-chat-gate-${RUN_ID}`;

/** the answer says which turn it is (the history's length + 1); "slow" waits at the gate after its first chunk */
const CHAT_PY = `import os
import time
from promptflow.core import tool


@tool
def chat(question: str, chat_history: list):
    if question == "boom":
        raise ValueError("no answer for boom")
    yield "turn %d:" % (len(chat_history) + 1)
    if question == "slow":
        end = time.monotonic() + 120
        while not os.path.exists(${JSON.stringify(GATE)}) and time.monotonic() < end:
            time.sleep(0.02)
    yield " " + question
`;

describe('session panel chat (UI)', function () {
  this.timeout(RUN_TIMEOUT_MS + 60_000);
  const engine = new DockerEngine(resolveEndpoint());
  let flowDir: string;

  before(async function () {
    this.timeout(300_000);
    await ensureBaseImages(engine, (l) => process.stderr.write(`      [base images] ${l}\n`));
    flowDir = makeFlow(
      {
        'flow.dag.yaml': chatFlowYaml(`- name: chat
  type: python
  source: {type: code, path: chat.py}
  inputs:
    question: \${inputs.question}
    chat_history: \${inputs.chat_history}
`),
        'chat.py': CHAT_PY,
      },
      'fs-chat-ui-',
    );
  });

  const wb = useWorkbench(() => ({
    folder: flowDir,
    label: 'chat',
    env: { FLOWSESSION_DEFAULT_BASE_IMAGE: BASE_IMAGE, FLOWSESSION_EXTRA_LABELS: `flowsession.test=${RUN_ID}` },
  }));

  after(async function () {
    this.timeout(120_000);
    await cleanUp(engine, RUN_ID).catch((e) => process.stderr.write(`      [clean-up] ${(e as Error).message}\n`));
    if (flowDir) fs.rmSync(flowDir, { recursive: true, force: true });
  });

  async function panel(): Promise<FrameLocator> {
    const frame = wb().webviewFrame();
    await frame.locator('[data-testid="session-state"]').waitFor({ timeout: 30_000 });
    return frame;
  }

  async function send(frame: FrameLocator, message: string): Promise<void> {
    await frame.locator('vscode-text-area[data-testid="chat-input"] textarea').fill(message);
    await frame.locator('vscode-button[data-testid="chat-send"]').click();
  }

  const answers = (frame: FrameLocator) => frame.locator('[data-testid="chat-answer"]');

  it('streams the answer of a turn while it is produced', async () => {
    await wb().runCommandWhenShown('Flow Session: Open Session Panel');
    const frame = await panel();
    await frame.locator('[data-testid="chat-input"]').waitFor({ timeout: 30_000 });
    await send(frame, 'slow');
    // the first chunk is shown while the tool waits at the gate: the turn is still under way
    const streaming = frame.locator('[data-testid="chat-answer"][data-streaming="true"]', { hasText: 'turn 1:' });
    await streaming.waitFor({ timeout: RUN_TIMEOUT_MS });
    assert.ok(!((await streaming.textContent()) ?? '').includes('slow'));
    const [container] = await engine.listContainers({ 'flowsession.test': RUN_ID });
    await engine.exec(container.id, ['touch', GATE]);
    await answers(frame).filter({ hasText: 'turn 1: slow' }).waitFor({ timeout: 60_000 });
    await waitUntil('the turn to end', 30_000, async () => (await frame.locator('[data-streaming="true"]').count()) === 0);
  });

  it('keeps the history: the next turn is turn 2; a failed turn shows its error and is not history', async () => {
    const frame = await panel();
    await send(frame, 'second');
    await answers(frame).filter({ hasText: 'turn 2: second' }).waitFor({ timeout: 60_000 });
    await send(frame, 'boom');
    const error = frame.locator('[data-testid="chat-error"]');
    await error.waitFor({ timeout: 60_000 });
    assert.match((await error.textContent()) ?? '', /ToolExecutionError.*no answer for boom/);
    await send(frame, 'third');
    await answers(frame).filter({ hasText: 'turn 3: third' }).waitFor({ timeout: 60_000 });
    assert.deepStrictEqual(await frame.locator('[data-testid="chat-message"]').allTextContents(), ['slow', 'second', 'boom', 'third']);
  });

  it('Clear starts the chat over', async () => {
    const frame = await panel();
    await frame.locator('vscode-button[data-testid="chat-clear"]').click();
    await waitUntil('the transcript to empty', 15_000, async () => (await frame.locator('[data-testid="chat-message"]').count()) === 0);
    await send(frame, 'again');
    await answers(frame).filter({ hasText: 'turn 1: again' }).waitFor({ timeout: 60_000 });
  });

  it('ran under its Content-Security-Policy without a violation', () => {
    const log = fs.readFileSync(path.join(wb().runDir, 'browser.log'), 'utf8');
    assert.deepStrictEqual(
      log.split('\n').filter((l) => /Content Security Policy/i.test(l)),
      [],
    );
  });
});
