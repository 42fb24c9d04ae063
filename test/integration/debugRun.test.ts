import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { startDebugRun, type DebugRun } from '../../src/core/debug/debugRun';
import type { FlowDebugConfiguration } from '../../src/core/debug/launchConfig';
import type { RunService } from '../../src/core/runs/runService';
import type { SessionManager } from '../../src/core/session/sessionManager';
import { DapTestClient } from '../support/dapClient';
import { configureIncludeRoots, includeRootsConfig } from '../../src/core/flow/includeScope';
import { doubleFlowYaml, makeFlow } from '../support/flows/fixtures';
import { FlowJar } from '../support/flows/flowJar';
import { waitUntil } from '../support/waiting';
import { Readable } from 'stream';
import { packEntries } from '../../src/core/docker/archive';
import { FlowSessionError } from '../../src/core/errors';
import { testServices } from '../support/world/manager';
import { testEngine, world } from '../support/world/world';

const TOOL = `from promptflow import tool
from helpers.scale import scale


@tool
def double(value: int) -> int:
    doubled = scale(value, 2)
    result = doubled + 0
    return result
`;
const TOOL_LINE = TOOL.split('\n').findIndex((l) => l.includes('doubled = scale')) + 1;
const HELPER = `def scale(value, factor):
    scaled = value * factor
    return scaled
`;
const HELPER_LINE = 2;

const flowFiles = (include: string) => ({
  'flow.dag.yaml': doubleFlowYaml(`additional_includes:\n- ${include}\n`),
  'double.py': TOOL,
});

/** debugpy's processes in the session (its adapter runs as \`python -m debugpy.adapter\` or from debugpy's folder). */
async function debugpyProcesses(manager: SessionManager, flowDir: string): Promise<string[]> {
  const container = (await manager.status(flowDir)).container!;
  const r = await manager.engine.exec(container, [
    'python3',
    '-c',
    `import os
for p in os.listdir('/proc'):
    if p.isdigit() and int(p) != os.getpid():
        try:
            cmd = open('/proc/%s/cmdline' % p, 'rb').read().replace(b'\\0', b' ').decode()
        except OSError:
            continue
        if 'debugpy' in cmd:
            print(p, cmd)`,
  ]);
  return r.stdout.split('\n').filter(Boolean);
}

async function noDebugpyLeft(manager: SessionManager, flowDir: string): Promise<void> {
  await waitUntil('no debugpy process in the session', 20_000, async () => {
    const left = await debugpyProcesses(manager, flowDir);
    if (left.length) throw new Error(left.join(' | '));
    return true;
  });
}

describe('debugging a run in its session over the engine API (DAP through an exec relay)', function () {
  let manager: SessionManager;
  let runs: RunService;
  let flowDir: string;
  let helperFile: string;
  let shared: string;
  const jar = new FlowJar();
  const savedRoots = includeRootsConfig();

  before(() => {
    ({ manager, runs } = testServices());
    // shared code outside the flow folder, allowed as an include root; the session has it at /flow/helpers
    shared = makeFlow({ 'helpers/scale.py': HELPER }, 'flowsession-shared-');
    configureIncludeRoots({ ...savedRoots, extraRoots: [...(savedRoots.extraRoots ?? []), shared] });
    helperFile = path.join(shared, 'helpers', 'scale.py');
    flowDir = jar.make(flowFiles(path.join(shared, 'helpers')));
  });

  after(async () => {
    configureIncludeRoots(savedRoots);
    await jar.dispose([manager]);
    fs.rmSync(shared, { recursive: true, force: true });
    manager.dispose();
  });

  const config = (extra: Partial<FlowDebugConfiguration> = {}): FlowDebugConfiguration => ({
    type: 'flowsession',
    request: 'launch',
    name: 'Debug test flow',
    flow: flowDir,
    ...extra,
  });

  /** initialize, launch (attach for debugpy), the breakpoints, configurationDone: as VS Code starts a session. */
  async function begin(run: DebugRun, c: FlowDebugConfiguration, breakpoints: { file: string; line: number }[]): Promise<DapTestClient> {
    const client = new DapTestClient(await run.bridge(c));
    await client.request('initialize', {
      clientID: 'test',
      adapterID: 'flowsession',
      pathFormat: 'path',
      linesStartAt1: true,
      columnsStartAt1: true,
    });
    const launched = client.send('launch', { ...c });
    await client.event('initialized', 60_000);
    const byFile = new Map<string, number[]>();
    for (const b of breakpoints) byFile.set(b.file, [...(byFile.get(b.file) ?? []), b.line]);
    for (const [file, lines] of byFile)
      await client.request('setBreakpoints', { source: { path: file }, breakpoints: lines.map((line) => ({ line })) });
    await client.request('configurationDone');
    await launched;
    return client;
  }

  async function topFrame(client: DapTestClient, threadId: number): Promise<{ id: number; line: number; source?: { path?: string } }> {
    const trace = await client.request('stackTrace', { threadId, startFrame: 0, levels: 20 });
    const frames = (trace.body?.stackFrames ?? []) as { id: number; line: number; source?: { path?: string } }[];
    assert.ok(frames.length > 0, 'a stack');
    return frames[0];
  }

  async function locals(client: DapTestClient, frameId: number): Promise<Record<string, string>> {
    const scopes = (await client.request('scopes', { frameId })).body?.scopes as { name: string; variablesReference: number }[];
    const local = scopes.find((s) => /local/i.test(s.name));
    assert.ok(local, `a Locals scope among ${scopes.map((s) => s.name).join(', ')}`);
    const vars = (await client.request('variables', { variablesReference: local.variablesReference })).body?.variables as {
      name: string;
      value: string;
    }[];
    return Object.fromEntries(vars.map((v) => [v.name, v.value]));
  }

  it('stops at a breakpoint in a tool and in an included file, shows the input, steps, continues and records the run', async () => {
    const c = config({ inputs: { value: 21 } });
    const run = startDebugRun(runs, manager, c);
    const client = await begin(run, c, [
      { file: path.join(flowDir, 'double.py'), line: TOOL_LINE },
      { file: helperFile, line: HELPER_LINE },
    ]);

    const first = await client.event('stopped', 60_000, (e) => e.body?.reason === 'breakpoint');
    const threadId = first.body!.threadId as number;
    let frame = await topFrame(client, threadId);
    // the session's /flow/double.py is shown as the local file
    assert.strictEqual(frame.source?.path, path.join(flowDir, 'double.py'));
    assert.strictEqual(frame.line, TOOL_LINE);
    assert.strictEqual((await locals(client, frame.id)).value, '21');

    // into the included helper: its session path /flow/helpers/scale.py maps to where it really is
    const seen = client.events.length;
    await client.request('continue', { threadId });
    await client.event('stopped', 60_000, (e) => e.body?.reason === 'breakpoint', seen);
    frame = await topFrame(client, threadId);
    assert.strictEqual(frame.source?.path, helperFile);
    assert.strictEqual(frame.line, HELPER_LINE);
    assert.deepStrictEqual(
      Object.entries(await locals(client, frame.id)).filter(([k]) => k === 'value' || k === 'factor'),
      [
        ['factor', '2'],
        ['value', '21'],
      ],
    );

    // stepping: one line on, still in the helper
    const beforeStep = client.events.length;
    await client.request('next', { threadId });
    await client.event('stopped', 60_000, (e) => e.body?.reason === 'step', beforeStep);
    frame = await topFrame(client, threadId);
    assert.strictEqual(frame.line, HELPER_LINE + 1);
    assert.strictEqual((await locals(client, frame.id)).scaled, '42');

    await client.request('continue', { threadId });
    const record = await run.record;
    assert.strictEqual(record.status, 'Completed', JSON.stringify(record.error));
    assert.deepStrictEqual(record.outputs, { doubled: 42 });
    // recorded as a normal run
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(flowDir, '.promptflow', 'flow.output.json'), 'utf8')), { doubled: 42 });
    const output = await client.event('output', 30_000, (e) => String(e.body?.output).includes(`Run ${record.runId} completed`));
    assert.match(String(output.body?.output), /"doubled":42/);
    await client.event('terminated', 30_000);
    // nothing of the debugger is left in the session
    await noDebugpyLeft(manager, flowDir);
  });

  it('debugs one node alone, and stopping the debug session cancels the run and leaves nothing running', async () => {
    const c = config({ node: 'double', inputs: { value: 5 } });
    const run = startDebugRun(runs, manager, c);
    const client = await begin(run, c, [{ file: path.join(flowDir, 'double.py'), line: TOOL_LINE }]);
    const stopped = await client.event('stopped', 60_000, (e) => e.body?.reason === 'breakpoint');
    const frame = await topFrame(client, stopped.body!.threadId as number);
    assert.strictEqual((await locals(client, frame.id)).value, '5');
    assert.ok((await debugpyProcesses(manager, flowDir)).length > 0, 'debugpy runs while the run is paused');

    await client.request('disconnect', { terminateDebuggee: true });
    const record = await run.record;
    assert.strictEqual(record.status, 'Canceled');
    await client.event('terminated', 10_000);
    await noDebugpyLeft(manager, flowDir);

    // the session is free for the next run
    const next = await runs.run(flowDir, { inputs: { value: 4 } });
    assert.strictEqual(next.status, 'Completed', JSON.stringify(next.error));
    assert.deepStrictEqual(next.outputs, { doubled: 8 });
  });

  it('on a base image without debugpy that pip cannot get it for, the session works and debugging says what to do', async () => {
    const w = world();
    const base = `flowsession-test/no-debugpy:${w.runId}`;
    const dockerfile = `FROM ${w.baseImage}\nRUN ["python3", "-c", "import debugpy, os, shutil; shutil.rmtree(os.path.dirname(debugpy.__file__))"]\n`;
    await testEngine().buildImage(Readable.from(await packEntries([{ name: 'Dockerfile', content: Buffer.from(dockerfile) }])), {
      tag: base,
      labels: { 'flowsession.test': w.runId },
    });
    // the world's pip settings: no index, only the loopback wheelhouse, which has no debugpy
    const services = testServices({ FLOWSESSION_BASE_IMAGE: base });
    const dir = jar.make({ 'flow.dag.yaml': flowFiles(path.join(shared, 'helpers'))['flow.dag.yaml'], 'double.py': TOOL });
    try {
      const plain = await services.runs.run(dir, { inputs: { value: 2 } });
      assert.deepStrictEqual([plain.status, plain.outputs], ['Completed', { doubled: 4 }], JSON.stringify(plain.error));
      const run = startDebugRun(services.runs, services.manager, config({ flow: dir }));
      await assert.rejects(
        run.bridge(config({ flow: dir })),
        (e: unknown) =>
          e instanceof FlowSessionError &&
          e.kind === 'debugger-unavailable' &&
          /debugpy is not installed in the session/.test(e.message) &&
          /flowsession\.pip/.test(e.remedy) &&
          /reset the session/i.test(e.remedy),
      );
      assert.strictEqual((await run.record).error?.code, 'DebuggerUnavailable');
    } finally {
      await services.manager.remove(dir).catch(() => undefined);
      services.manager.dispose();
    }
  });
});
