/**
 * Mode A (extension host): "Debug Flow" in a real VS Code against the real engine. A breakpoint set in a tool is hit
 * in the session (the editor stops on that line, the input's value is shown), and continuing lets the run finish and
 * record its outputs. The flow is made for this suite in its own folder and removed with its session at the end.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FlowSessionApi } from '../../../src/extension';
import { doubleFlowYaml } from '../../support/flows/fixtures';
import { waitUntil } from '../../support/waiting';

const EXTENSION_ID = 'flowsession.flowsession';

const TOOL = `from promptflow.core import tool


@tool
def double(value: int) -> int:
    doubled = value * 2
    return doubled
`;
const TOOL_LINE = TOOL.split('\n').findIndex((l) => l.includes('doubled = value * 2')) + 1;
interface Frame {
  id: number;
  line: number;
  source?: { path?: string };
}

describe('Debug Flow in the session', function () {
  this.timeout(600_000);
  let a: FlowSessionApi;
  let flowDir: string;
  let toolFile: string;
  let breakpoint: vscode.SourceBreakpoint;

  before(async () => {
    assert.ok(process.env.FLOWSESSION_BASE_IMAGE, 'FLOWSESSION_BASE_IMAGE points sessions at a local test image');
    const ext = vscode.extensions.getExtension<FlowSessionApi>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is installed`);
    a = ext.isActive ? ext.exports : await ext.activate();
    const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    flowDir = fs.mkdtempSync(path.join(root, 'debug-flow-'));
    toolFile = path.join(flowDir, 'double.py');
    fs.writeFileSync(path.join(flowDir, 'flow.dag.yaml'), doubleFlowYaml());
    fs.writeFileSync(toolFile, TOOL);
  });

  after(async () => {
    if (breakpoint) vscode.debug.removeBreakpoints([breakpoint]);
    if (!a || !flowDir) return;
    const { manager } = await a.ctx.services();
    await manager.remove(flowDir).catch(() => undefined);
    fs.rmSync(flowDir, { recursive: true, force: true });
  });

  it('stops at a breakpoint in a tool, shows its input, and continues to the outputs', async () => {
    breakpoint = new vscode.SourceBreakpoint(new vscode.Location(vscode.Uri.file(toolFile), new vscode.Position(TOOL_LINE - 1, 0)));
    vscode.debug.addBreakpoints([breakpoint]);
    const terminated = new Promise<vscode.DebugSession>((resolve) => {
      const sub = vscode.debug.onDidTerminateDebugSession((s) => {
        if (s.type === 'flowsession') {
          sub.dispose();
          resolve(s);
        }
      });
    });

    // the command takes the inputs from its caller instead of asking
    await vscode.commands.executeCommand('flowsession.debugFlow', flowDir, { value: 21 });

    const frame = await waitUntil('the debugger to stop in a stack frame', 300_000, () => {
      const item = vscode.debug.activeStackItem;
      return item && 'frameId' in item && item.session.type === 'flowsession' ? item : undefined;
    });
    const session = frame.session;
    const trace = await session.customRequest('stackTrace', { threadId: frame.threadId, startFrame: 0, levels: 1 });
    const top = (trace.stackFrames as Frame[])[0];
    assert.strictEqual(top.line, TOOL_LINE);
    assert.ok(top.source?.path, 'the frame has a source');
    // in a remote extension host (code-server) VS Code hands the path over as a vscode-remote: URI
    const shown = /^[a-z][\w+.-]*:\/\//i.test(top.source.path) ? vscode.Uri.parse(top.source.path).fsPath : top.source.path;
    assert.strictEqual(fs.realpathSync(shown), fs.realpathSync(toolFile));

    // the editor shows the local tool file at that line
    await waitUntil('the editor on the breakpoint line', 30_000, () => {
      const e = vscode.window.activeTextEditor;
      return e && fs.realpathSync(e.document.uri.fsPath) === fs.realpathSync(toolFile) && e.selection.active.line === TOOL_LINE - 1;
    });

    const scopes = (await session.customRequest('scopes', { frameId: top.id })).scopes as { name: string; variablesReference: number }[];
    const locals = scopes.find((s) => /local/i.test(s.name));
    assert.ok(locals, `a Locals scope among ${scopes.map((s) => s.name).join(', ')}`);
    const vars = (await session.customRequest('variables', { variablesReference: locals.variablesReference })).variables as {
      name: string;
      value: string;
    }[];
    assert.strictEqual(vars.find((v) => v.name === 'value')?.value, '21');

    const outputFile = path.join(flowDir, '.promptflow', 'flow.output.json');
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    const ended = await terminated;
    assert.strictEqual(ended.id, session.id);
    const outputs = await waitUntil('the run to record its outputs', 60_000, () =>
      fs.existsSync(outputFile) ? (JSON.parse(fs.readFileSync(outputFile, 'utf8')) as Record<string, unknown>) : undefined,
    );
    assert.deepStrictEqual(outputs, { doubled: 42 });
    const { runs } = await a.ctx.services();
    await waitUntil('no run left going', 30_000, () => runs.activeRuns().length === 0);
  });

  it('Debug Node from the tool file stops in that node, and stopping the debug session cancels the run', async () => {
    const terminated = new Promise<vscode.DebugSession>((resolve) => {
      const sub = vscode.debug.onDidTerminateDebugSession((s) => {
        if (s.type === 'flowsession') {
          sub.dispose();
          resolve(s);
        }
      });
    });
    // the node is the one whose source is the file given
    await vscode.commands.executeCommand('flowsession.debugNode', vscode.Uri.file(toolFile), undefined, { value: 5 });
    const frame = await waitUntil('the debugger to stop in the node', 120_000, () => {
      const item = vscode.debug.activeStackItem;
      return item && 'frameId' in item && item.session.type === 'flowsession' && item.session.configuration.node === 'double'
        ? item
        : undefined;
    });
    const trace = await frame.session.customRequest('stackTrace', { threadId: frame.threadId, startFrame: 0, levels: 1 });
    const top = (trace.stackFrames as Frame[])[0];
    assert.strictEqual(top.line, TOOL_LINE);
    const { runs } = await a.ctx.services();
    assert.strictEqual(runs.activeRuns().length, 1, 'the node run waits at the breakpoint');

    await vscode.debug.stopDebugging(frame.session);
    assert.strictEqual((await terminated).id, frame.session.id);
    await waitUntil('the run to be cancelled', 30_000, () => runs.activeRuns().length === 0);
    assert.ok(!fs.existsSync(path.join(flowDir, '.promptflow', 'double.node.detail.json')), 'a cancelled node run records no result');
  });
});
