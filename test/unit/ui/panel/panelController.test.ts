import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ProgressReport } from '../../../../src/core/docker/progress';
import type { RunOptions, RunRecord } from '../../../../src/core/runs/runService';
import { sessionKey } from '../../../../src/core/session/labels';
import type { InstalledPackage } from '../../../../src/core/session/packages';
import type { SessionChange } from '../../../../src/core/session/sessionManager';
import type { SessionStatus } from '../../../../src/core/session/state';
import { PanelController, type PanelHost } from '../../../../src/ui/panel/panelController';
import type { PanelServices } from '../../../../src/ui/panel/panelServices';
import type { HostMessage } from '../../../../src/shared/protocol';
import { writeTrace } from '../../../../src/core/runs/runStore';
import { waitUntil } from '../../../support/waiting';

const SAMPLE = path.join(__dirname, '../../../../samples/hello-flow');
const SECRET = 'sk-test-SECRET-never-in-webview';

/** The controller settles within a few microtasks and short timers: checked often, given up on soon. */
function until(cond: () => boolean, what: string): Promise<boolean> {
  return waitUntil(what, 2000, cond, 5);
}

function world(flowDir: string) {
  const posted: HostMessage[] = [];
  const opened: string[] = [];
  const warnings: string[] = [];
  const calls: string[] = [];
  const runOptions: RunOptions[] = [];
  let listener: ((c: SessionChange) => void) | undefined;
  let progressListener: ((flowDir: string, r: ProgressReport) => void) | undefined;
  let confirm = true;
  let state: SessionStatus['state'] = 'ready';
  let packages: InstalledPackage[] = [{ name: 'jinja2', version: '3.1.4', origin: 'base' }];
  let releaseRun: (() => void) | undefined;
  const services: PanelServices = {
    extensionUri: undefined as never,
    log: { info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    onDidReportProgress: (l) => {
      progressListener = l;
      return { dispose: () => (progressListener = undefined) };
    },
    connectionsFor: async () => ({ open_ai: { type: 'OpenAIConnection', api_key: SECRET } }),
    sessions: {
      status: async (dir: string) => ({
        flowDir: dir,
        key: sessionKey(dir),
        state,
        outdated: false,
        engine: 'unix:///var/run/docker.sock',
        baseImage: 'python:3.11-slim',
        env: 'abc123',
      }),
      packages: async () => {
        calls.push('packages');
        return packages;
      },
      up: async () => {
        calls.push('up');
        return undefined as never;
      },
      reset: async () => {
        calls.push('reset');
        return undefined as never;
      },
      onDidChange: (l: (c: SessionChange) => void) => {
        listener = l;
        return { dispose: () => (listener = undefined) };
      },
    },
    runs: {
      run: async (dir: string, options: RunOptions = {}): Promise<RunRecord> => {
        runOptions.push(options);
        const runId = options.runId!;
        const ev = (e: Record<string, unknown>) => options.onEvent?.({ runId, ...e } as never);
        ev({ event: 'nodeStart', node: 'greet' });
        ev({ event: 'nodeLog', node: 'greet', stream: 'stdout', text: '<img src=x onerror=alert(1)>\n' });
        if (releaseRun === undefined && options.inputs?.name === 'wait') await new Promise<void>((r) => (releaseRun = r));
        ev({ event: 'nodeEnd', node: 'greet', status: 'Completed', durationMs: 5, output: 'Hello, Ada!' });
        const metrics = options.inputs?.name === 'scored' ? { metrics: { accuracy: 0.5 } } : {};
        const span = (spanId: string, name: string, kind: 'flow' | 'node' | 'llm', parentSpanId?: string) => ({
          traceId: 'ab'.repeat(16),
          spanId,
          ...(parentSpanId ? { parentSpanId } : {}),
          name,
          kind,
          start: '1700000000000000000',
          end: '1700000000005000000',
          status: 'Ok' as const,
          attributes: (kind === 'llm' ? { 'gen_ai.usage.input_tokens': 5, 'gen_ai.usage.output_tokens': 2 } : {}) as Record<string, number>,
        });
        const trace = [span('f', 'flow', 'flow'), span('n', 'greet', 'node', 'f'), span('l', 'chat m', 'llm', 'n')];
        return {
          runId,
          flowDir: dir,
          status: 'Completed',
          outputs: { greeting: 'Hello, Ada!' },
          startedAt: 't',
          durationMs: 9,
          files: [],
          ...metrics,
          trace,
        };
      },
      cancel: async (runId: string) => {
        calls.push(`cancel ${runId}`);
        releaseRun?.();
        return true;
      },
    },
  };
  const host: PanelHost = {
    postMessage: async (m) => {
      posted.push(JSON.parse(JSON.stringify(m)) as HostMessage);
      return true;
    },
    openFile: async (f) => opened.push(f),
    confirmReset: async () => confirm,
    openSource: async (f, line) => opened.push(`${f}:${line}`),
    openUntitled: async (text, language) => opened.push(`untitled ${language}: ${text}`),
  };
  const controller = new PanelController(services, flowDir, host);
  return {
    controller,
    services,
    posted,
    opened,
    warnings,
    calls,
    runOptions,
    change: (c: SessionChange) => listener?.(c),
    progress: (dir: string, r: ProgressReport) => progressListener?.(dir, r),
    setConfirm: (v: boolean) => (confirm = v),
    setState: (s: SessionStatus['state']) => (state = s),
    setPackages: (p: typeof packages) => (packages = p),
    hasListener: () => listener !== undefined,
  };
}

describe('panel controller', () => {
  let flowDir: string;
  beforeEach(() => {
    flowDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-panel-ctl-')));
    fs.cpSync(SAMPLE, flowDir, { recursive: true });
  });
  afterEach(() => fs.rmSync(flowDir, { recursive: true, force: true }));

  it('posts nothing before the webview is ready, then the whole state', async () => {
    const w = world(flowDir);
    w.controller.start();
    await until(() => w.controller.snapshot.packages.status === 'ready' && w.controller.snapshot.fields.length > 0, 'initial load');
    assert.strictEqual(w.posted.length, 0);
    await w.controller.handleMessage({ type: 'ready' });
    assert.strictEqual(w.posted.length, 1);
    const first = w.posted[0];
    assert.ok(first.type === 'state');
    assert.deepStrictEqual(
      first.state.fields.map((f) => [f.name, f.initial]),
      [
        ['name', 'World'],
        ['excited', true],
      ],
    );
    assert.strictEqual(first.state.session?.state, 'ready');
    assert.deepStrictEqual(
      first.state.packages.items.map((p) => p.name),
      ['jinja2'],
    );
    // hidden: the webview is gone, so nothing is posted until it says it is ready again
    w.controller.webviewGone();
    await w.controller.refreshHistory();
    assert.strictEqual(w.posted.length, 1);
    await w.controller.handleMessage({ type: 'ready' });
    assert.strictEqual(w.posted.at(-1)?.type, 'state');
    w.controller.dispose();
    assert.ok(!w.hasListener());
  });

  it("makes a flex flow's form from its entry's signature in the session, what flow.flex.yaml declares winning", async () => {
    const flex = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-panel-flex-')));
    try {
      fs.writeFileSync(path.join(flex, 'flow.flex.yaml'), 'entry: chat:Chat\nsample:\n  inputs:\n    question: What is a session?\n');
      const w = world(flex);
      w.services.entryInputs = async () => ({
        question: { type: 'string' },
        turns: { type: 'int', default: 3 },
        history: { type: 'list', default: null },
      });
      w.controller.start();
      await until(() => w.controller.snapshot.fields.length === 3, 'the form');
      assert.deepStrictEqual(
        w.controller.snapshot.fields.map((f) => [f.name, f.type, f.initial]),
        [
          ['question', 'string', 'What is a session?'],
          ['turns', 'int', '3'],
          ['history', 'list', '[]'],
        ],
      );
      // without a running session, the form is what the YAML declares
      w.services.entryInputs = async () => undefined;
      fs.writeFileSync(path.join(flex, 'flow.flex.yaml'), 'entry: chat:Chat\nsample:\n  inputs:\n    question: Why?\n');
      await w.controller.refreshFields();
      assert.deepStrictEqual(
        w.controller.snapshot.fields.map((f) => [f.name, f.initial]),
        [['question', 'Why?']],
      );
      w.controller.dispose();
    } finally {
      fs.rmSync(flex, { recursive: true, force: true });
    }
  });

  it('runs the flow with coerced inputs and connections, streaming node events; secrets stay out of the webview', async () => {
    const w = world(flowDir);
    await w.controller.handleMessage({ type: 'ready' });
    await w.controller.handleMessage({ type: 'run', inputs: { name: 'Ada', excited: false } });
    assert.strictEqual(w.runOptions.length, 1);
    assert.deepStrictEqual(w.runOptions[0].inputs, { name: 'Ada', excited: false });
    assert.strictEqual(w.runOptions[0].connections?.open_ai.api_key, SECRET);
    await until(() => w.posted.some((m) => m.type === 'history'), 'the history to be read again');
    const types = w.posted.map((m) => (m.type === 'runEvent' ? `runEvent:${m.event.event}` : m.type));
    for (const t of ['runStarted', 'runEvent:nodeStart', 'runEvent:nodeLog', 'runEvent:nodeEnd', 'runEnded', 'history'])
      assert.ok(types.includes(t), `${t} in ${types.join(',')}`);
    assert.ok(
      types.indexOf('runStarted') < types.indexOf('runEvent:nodeStart') && types.indexOf('runEvent:nodeEnd') < types.indexOf('runEnded'),
    );
    const run = w.controller.snapshot.run!;
    assert.strictEqual(run.status, 'Completed');
    assert.deepStrictEqual(run.outputs, { greeting: 'Hello, Ada!' });
    assert.deepStrictEqual(
      run.nodes.map((n) => [n.node, n.status, n.durationMs, n.log]),
      [['greet', 'Completed', 5, '<img src=x onerror=alert(1)>\n']],
    );
    assert.ok(!JSON.stringify(w.posted).includes(SECRET));
    assert.ok(!JSON.stringify(w.controller.snapshot).includes(SECRET));
  });

  it('refuses run inputs the flow does not declare or cannot take, without running', async () => {
    const w = world(flowDir);
    await w.controller.handleMessage({ type: 'ready' });
    await w.controller.handleMessage({ type: 'run', inputs: { name: 'Ada', admin: 'true' } });
    await w.controller.handleMessage({ type: 'run', inputs: { excited: 'yes' } });
    assert.strictEqual(w.runOptions.length, 0);
    const errors = w.posted.filter((m) => m.type === 'formErrors');
    assert.deepStrictEqual(
      errors.map((m) => m.type === 'formErrors' && Object.keys(m.errors)),
      [['admin'], ['excited']],
    );
  });

  it('drops malformed and forged messages with a warning', async () => {
    const w = world(flowDir);
    await w.controller.handleMessage({ type: 'ready' });
    const before = w.posted.length;
    for (const m of [
      null,
      'run',
      { type: 'run', inputs: { name: 1 } },
      { type: 'shell', cmd: 'id' },
      { type: 'openFile', runId: '../..', file: 'flow.dag.yaml' },
      { type: 'cancel', runId: 'not-my-run' },
    ]) {
      await w.controller.handleMessage(m);
    }
    assert.strictEqual(w.posted.length, before);
    assert.strictEqual(w.runOptions.length, 0);
    assert.ok(!w.calls.some((c) => c.startsWith('cancel')));
    assert.strictEqual(w.warnings.length, 6);
  });

  it('opens only files of runs that exist', async () => {
    const w = world(flowDir);
    const runDir = path.join(flowDir, '.promptflow', 'runs', 'hello_run_1');
    fs.mkdirSync(runDir, { recursive: true });
    fs.writeFileSync(path.join(runDir, 'flow.output.json'), '{}');
    await w.controller.handleMessage({ type: 'openFile', runId: 'hello_run_1', file: 'flow.output.json' });
    await w.controller.handleMessage({ type: 'openFile', runId: 'hello_run_1', file: 'flow.detail.json' });
    await w.controller.handleMessage({ type: 'openFile', runId: 'hello_run_2', file: 'flow.output.json' });
    assert.deepStrictEqual(w.opened, [path.join(runDir, 'flow.output.json')]);
    assert.strictEqual(w.warnings.length, 2);
  });

  it('cancels only its current run', async () => {
    const w = world(flowDir);
    await w.controller.handleMessage({ type: 'ready' });
    const running = w.controller.handleMessage({ type: 'run', inputs: { name: 'wait' } });
    await until(() => w.controller.snapshot.run?.status === 'Running', 'the run to start');
    const runId = w.controller.snapshot.run!.runId;
    await w.controller.handleMessage({ type: 'run', inputs: { name: 'again' } });
    assert.strictEqual(w.runOptions.length, 1, 'one run at a time');
    assert.strictEqual(w.controller.snapshot.notice?.level, 'error');
    await w.controller.handleMessage({ type: 'cancel', runId });
    await running;
    assert.deepStrictEqual(
      w.calls.filter((c) => c.startsWith('cancel')),
      [`cancel ${runId}`],
    );
    assert.ok(w.runOptions[0].signal?.aborted);
  });

  it('follows session changes of its flow only, and lists packages again after an install', async () => {
    const w = world(flowDir);
    w.controller.start();
    await until(() => w.controller.snapshot.packages.status === 'ready', 'packages');
    const listed = () => w.calls.filter((c) => c === 'packages').length;
    const n = listed();
    w.change({ key: 'someone-else', action: 'settled' });
    await new Promise((r) => setTimeout(r, 30));
    assert.strictEqual(listed(), n);
    w.setPackages([
      { name: 'jinja2', version: '3.1.4', origin: 'base' },
      { name: 'tinyhand', version: '1.0', origin: 'by-hand' },
    ]);
    w.change({ key: sessionKey(flowDir), action: 'busy' });
    w.change({ key: sessionKey(flowDir), action: 'settled' });
    await until(() => w.controller.snapshot.packages.items.some((p) => p.origin === 'by-hand'), 'the by-hand package');
    w.setState('stopped');
    w.change({ key: sessionKey(flowDir), action: 'die' });
    await until(() => w.controller.snapshot.session?.state === 'stopped', 'stopped');
    assert.strictEqual(w.controller.snapshot.packages.status, 'unavailable');
    w.controller.dispose();
  });

  it('shows progress of work started elsewhere until the session settles', async () => {
    const w = world(flowDir);
    w.controller.start();
    await until(() => w.controller.snapshot.session?.state === 'ready', 'ready');
    w.setState('busy');
    w.change({ key: sessionKey(flowDir), action: 'busy' });
    w.progress('/some/other/flow', { phase: 'installing', log: 'not ours' });
    w.progress(flowDir, { phase: 'installing', log: 'Collecting fs-handy\nInstalling collected packages: fs-handy\n' });
    assert.deepStrictEqual(w.controller.snapshot.progress?.log, ['Collecting fs-handy', 'Installing collected packages: fs-handy']);
    await until(() => w.controller.snapshot.session?.state === 'busy', 'busy');
    assert.ok(w.controller.snapshot.progress, 'kept while busy');
    w.setState('ready');
    w.change({ key: sessionKey(flowDir), action: 'settled' });
    await until(() => w.controller.snapshot.progress === null, 'the progress to go');
    w.controller.dispose();
  });

  it('resets only after the user confirms', async () => {
    const w = world(flowDir);
    w.setConfirm(false);
    await w.controller.handleMessage({ type: 'resetSession' });
    assert.ok(!w.calls.includes('reset'));
    w.setConfirm(true);
    await w.controller.handleMessage({ type: 'resetSession' });
    assert.ok(w.calls.includes('reset'));
    await w.controller.handleMessage({ type: 'startSession' });
    assert.ok(w.calls.includes('up'));
  });

  it('offers the variants of the flow, runs the picks that are not defaults, and refuses picks the flow lost', async () => {
    const greet = (mark: string) =>
      `        node:\n          type: python\n          source: {type: code, path: greet.py}\n          inputs:\n            name: ${mark}\n`;
    fs.writeFileSync(
      path.join(flowDir, 'flow.dag.yaml'),
      'inputs:\n  name: {type: string, default: x}\noutputs:\n  o:\n    type: string\n    reference: ${greet.output}\n' +
        'nodes:\n- name: greet\n  use_variants: true\nnode_variants:\n  greet:\n    default_variant_id: plain\n    variants:\n' +
        `      plain:\n${greet('a')}      loud:\n${greet('b')}`,
    );
    const w = world(flowDir);
    await w.controller.refreshFields();
    assert.deepStrictEqual(w.controller.snapshot.variantChoices, [{ node: 'greet', variants: ['plain', 'loud'], defaultId: 'plain' }]);
    await w.controller.handleMessage({ type: 'ready' });
    await w.controller.handleMessage({ type: 'run', inputs: {}, variants: { greet: 'plain' } });
    await w.controller.handleMessage({ type: 'run', inputs: {}, variants: { greet: 'loud' } });
    assert.deepStrictEqual(
      w.runOptions.map((o) => o.variant),
      [undefined, ['${greet.loud}']],
    );
    await w.controller.handleMessage({ type: 'run', inputs: {}, variants: { greet: 'shouty' } });
    assert.strictEqual(w.runOptions.length, 2, 'a pick the flow does not have is not run');
    assert.match(w.controller.snapshot.notice?.message ?? '', /Node 'greet' has no variant 'shouty'/);
  });

  it('shows the metrics a run logged with the run', async () => {
    const w = world(flowDir);
    await w.controller.handleMessage({ type: 'ready' });
    await w.controller.handleMessage({ type: 'run', inputs: { name: 'scored' } });
    assert.deepStrictEqual(w.controller.snapshot.run?.metrics, { accuracy: 0.5 });
    await w.controller.handleMessage({ type: 'run', inputs: { name: 'plain' } });
    assert.strictEqual(w.controller.snapshot.run?.metrics, undefined);
  });

  it('runs one node alone in the panel (Run Node), marked as that node', async () => {
    const w = world(flowDir);
    await w.controller.handleMessage({ type: 'ready' });
    await w.controller.runNode('greet');
    assert.deepStrictEqual(
      w.runOptions.map((o) => [o.node, o.inputs]),
      [['greet', undefined]],
    );
    const started = w.posted.find((m) => m.type === 'runStarted');
    assert.ok(started && started.type === 'runStarted' && started.node === 'greet');
    assert.strictEqual(w.controller.snapshot.run?.node, 'greet');
    assert.strictEqual(w.controller.snapshot.run?.status, 'Completed');
  });

  it('lists each run with its metrics and variants for the side-by-side view', async () => {
    const runDir = path.join(flowDir, '.promptflow', 'runs', 'hello_batch_20260101_000000_abc123');
    fs.mkdirSync(runDir, { recursive: true });
    fs.writeFileSync(path.join(runDir, 'output.jsonl'), '{}\n');
    fs.writeFileSync(
      path.join(runDir, 'summary.json'),
      JSON.stringify({ status: 'Completed', variants: { greet: 'loud', bad: { x: 1 } } }),
    );
    fs.writeFileSync(path.join(runDir, 'metrics.json'), JSON.stringify({ accuracy: 0.75, note: 'not a number' }));
    const w = world(flowDir);
    await w.controller.refreshHistory();
    assert.deepStrictEqual(
      w.controller.snapshot.history.map((r) => [r.runId, r.metrics, r.variants]),
      [['hello_batch_20260101_000000_abc123', { accuracy: 0.75 }, { greet: 'loud' }]],
    );
    assert.ok(!JSON.stringify(w.controller.snapshot.history).includes(flowDir), 'no folder paths reach the webview');
  });

  it('sends the flow graph, and a new one when flow.dag.yaml changes', async () => {
    const w = world(flowDir);
    await w.controller.refreshFields();
    const graph = w.controller.snapshot.graph;
    assert.deepStrictEqual(
      graph?.nodes.map((n) => n.id),
      ['input:name', 'input:excited', 'node:greet', 'node:render_prompt', 'output:greeting', 'output:prompt'],
    );
    assert.ok(graph?.edges.some((e) => e.from === 'node:greet' && e.to === 'node:render_prompt'));
    const file = path.join(flowDir, 'flow.dag.yaml');
    const extra = '- name: extra\n  type: python\n  source: {type: code, path: greet.py}\n  inputs:\n    name: ${render_prompt.output}\n';
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('environment:', `${extra}environment:`));
    await w.controller.refreshFields();
    assert.ok(w.controller.snapshot.graph?.nodes.some((n) => n.id === 'node:extra'));
    fs.writeFileSync(path.join(flowDir, 'flow.dag.yaml'), 'nodes: [\n');
    await w.controller.refreshFields();
    assert.ok(w.controller.snapshot.graphError, 'an unreadable flow says why');
    assert.ok(
      w.controller.snapshot.graph?.nodes.some((n) => n.id === 'node:extra'),
      'and keeps the last graph',
    );
  });

  it("draws a flex flow's graph as its inputs, its entry and its declared outputs, and opens the entry's source", async () => {
    const flex = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-panel-flexgraph-')));
    try {
      fs.writeFileSync(
        path.join(flex, 'flow.flex.yaml'),
        'entry: pkg.chat:Chat\ninputs:\n  question:\n    type: string\noutputs:\n  answer:\n    type: string\n',
      );
      fs.mkdirSync(path.join(flex, 'pkg'));
      fs.writeFileSync(
        path.join(flex, 'pkg', 'chat.py'),
        'import os\n\n\nclass Chat:\n    def __call__(self, question: str):\n        return question\n',
      );
      const w = world(flex);
      w.controller.start();
      await until(() => w.controller.snapshot.graph !== null, 'the graph');
      const graph = w.controller.snapshot.graph;
      assert.deepStrictEqual(
        graph?.nodes.map((n) => [n.id, n.type ?? '', n.source ?? '']),
        [
          ['input:question', '', ''],
          ['node:Chat', 'flex', 'pkg/chat.py'],
          ['output:answer', '', ''],
        ],
      );
      assert.deepStrictEqual(graph?.edges, [
        { from: 'input:question', to: 'node:Chat', kind: 'data' },
        { from: 'node:Chat', to: 'output:answer', kind: 'data' },
      ]);
      await w.controller.handleMessage({ type: 'openNodeSource', node: 'Chat' });
      assert.deepStrictEqual(w.opened, [`${path.join(flex, 'pkg', 'chat.py')}:4`]);
      // an entry whose module is not a file of the folder is not opened
      fs.writeFileSync(path.join(flex, 'flow.flex.yaml'), 'entry: chat:Other\n');
      await w.controller.handleMessage({ type: 'openNodeSource', node: 'Other' });
      assert.match(w.controller.snapshot.notice?.message ?? '', /not a file of the flow folder/);
      assert.strictEqual(w.opened.length, 1);
      w.controller.dispose();
    } finally {
      fs.rmSync(flex, { recursive: true, force: true });
    }
  });

  it("draws a prompty's graph as its inputs into the prompty, named as its runs name it", async () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-panel-promptygraph-')));
    try {
      fs.writeFileSync(
        path.join(dir, 'ask.prompty'),
        '---\nmodel:\n  api: chat\n  configuration:\n    type: openai\n    model: gpt-4o\ninputs:\n  question:\n    type: string\n---\nuser:\n{{question}}\n',
      );
      const w = world(dir);
      w.controller.start();
      await until(() => w.controller.snapshot.graph !== null, 'the graph');
      assert.deepStrictEqual(
        w.controller.snapshot.graph?.nodes.map((n) => n.id),
        ['input:question', 'node:ask'],
      );
      await w.controller.handleMessage({ type: 'openNodeSource', node: 'ask' });
      assert.deepStrictEqual(w.opened, [`${path.join(dir, 'ask.prompty')}:1`]);
      w.controller.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens a clicked node at its tool function, and says why when a node has no source file', async () => {
    const w = world(flowDir);
    await w.controller.handleMessage({ type: 'openNodeSource', node: 'greet' });
    const code = fs.readFileSync(path.join(flowDir, 'greet.py'), 'utf8').split('\n');
    const line = code.findIndex((l) => /^def greet/.test(l)) + 1;
    assert.deepStrictEqual(w.opened, [`${path.join(flowDir, 'greet.py')}:${line}`]);
    await w.controller.handleMessage({ type: 'openNodeSource', node: 'render_prompt' });
    assert.strictEqual(w.opened[1], `${path.join(flowDir, 'prompt.jinja2')}:1`);
    await w.controller.handleMessage({ type: 'openNodeSource', node: 'nope' });
    assert.match(w.controller.snapshot.notice?.message ?? '', /no node named 'nope'/);
    assert.strictEqual(w.opened.length, 2);
  });

  it('ends a traced run with its timeline and token totals', async () => {
    const w = world(flowDir);
    await w.controller.handleMessage({ type: 'run', inputs: { name: 'Ada', excited: true } });
    const tl = w.controller.snapshot.run?.timeline;
    assert.deepStrictEqual(
      tl?.rows.map((r) => [r.name, r.depth]),
      [
        ['flow', 0],
        ['greet', 1],
        ['chat m', 2],
      ],
    );
    assert.deepStrictEqual(tl?.totals.byNode, { greet: { input: 5, output: 2, total: 7 } });
  });

  it('opens a whole value of a run in an untitled editor, and compares runs side by side', async () => {
    const w = world(flowDir);
    const runDir = (id: string) => path.join(flowDir, '.promptflow', 'runs', id);
    const detail = (name: string, prompt: string) => ({
      flow_runs: [
        {
          run_id: 'x',
          status: 'Completed',
          inputs: { name },
          output: { greeting: `Hello, ${name}!` },
          start_time: '2026-01-01T00:00:00Z',
          system_metrics: { duration: 1.5 },
        },
      ],
      node_runs: [{ node: 'render_prompt', status: 'Completed', output: prompt }],
    });
    for (const [id, name] of [
      ['r1', 'Ada'],
      ['r2', 'Bob'],
    ]) {
      fs.mkdirSync(runDir(id), { recursive: true });
      fs.writeFileSync(path.join(runDir(id), 'flow.detail.json'), JSON.stringify(detail(name, `line one\nline two ${name}`)));
    }
    await w.controller.handleMessage({ type: 'openValue', runId: 'r1', kind: 'node', name: 'render_prompt' });
    assert.deepStrictEqual(w.opened, ['untitled plaintext: line one\nline two Ada']);
    await w.controller.handleMessage({ type: 'openValue', runId: 'r2', kind: 'output', name: 'greeting' });
    assert.strictEqual(w.opened[1], 'untitled plaintext: Hello, Bob!');
    await w.controller.handleMessage({ type: 'compareRuns', runIds: ['r1', 'r2'] });
    const c = w.controller.snapshot.comparison;
    assert.deepStrictEqual(
      c?.runs.map((r) => [r.runId, r.status, r.durationMs, r.lines[0].inputs, r.lines[0].outputs]),
      [
        ['r1', 'Completed', 1500, { name: 'Ada' }, { greeting: 'Hello, Ada!' }],
        ['r2', 'Completed', 1500, { name: 'Bob' }, { greeting: 'Hello, Bob!' }],
      ],
    );
    await w.controller.handleMessage({ type: 'compareRuns', runIds: [] });
    assert.strictEqual(w.controller.snapshot.comparison, null);
  });

  it('shows the trace of a run of the history as a timeline, and says so when a run has none', async () => {
    const w = world(flowDir);
    await writeTrace(
      flowDir,
      'r7',
      [
        {
          traceId: 'f'.repeat(32),
          spanId: '1'.repeat(16),
          name: 'flow',
          kind: 'flow',
          start: '1000000',
          end: '3000000',
          status: 'Ok',
          attributes: { span_type: 'Flow' },
        },
      ],
      { flow: 'hello-flow', runId: 'r7' },
    );
    await w.controller.handleMessage({ type: 'showTrace', runId: 'r7' });
    assert.strictEqual(w.controller.snapshot.historyTrace?.runId, 'r7');
    assert.deepStrictEqual(
      w.controller.snapshot.historyTrace?.timeline.rows.map((r) => [r.name, r.durationMs]),
      [['flow', 2]],
    );
    await w.controller.handleMessage({ type: 'hideTrace' });
    assert.strictEqual(w.controller.snapshot.historyTrace, null);
    await w.controller.handleMessage({ type: 'showTrace', runId: 'nothing-here' });
    assert.match(w.controller.snapshot.notice?.message ?? '', /has no trace/);
  });
});
