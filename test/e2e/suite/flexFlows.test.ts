import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FlowSessionApi } from '../../../src/extension';
import { waitUntil } from '../../support/waiting';

/**
 * Mode A (extension host): a flex flow and a .prompty in the workspace, as VS Code users meet them: the Sessions view
 * lists the folder with its kinds, both files carry Run, Batch and Validate lenses, and the flex flow's Run lens
 * runs it in the folder's session with prompt flow's result files in `.promptflow/`.
 */

const EXTENSION_ID = 'flowsession.flowsession';

async function api(): Promise<FlowSessionApi> {
  const ext = vscode.extensions.getExtension<FlowSessionApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  return ext.isActive ? ext.exports : ext.activate();
}

const PROMPTY = `---
name: Ask
model:
  api: chat
  configuration:
    type: openai
    model: gpt-4o-mini
    api_key: \${env:FLOWSESSION_E2E_UNSET_KEY}
inputs:
  question:
    type: string
sample:
  question: What is a session?
---
system:
You answer briefly.

user:
{{question}}
`;

describe('flex flows and prompty in VS Code', function () {
  this.timeout(600_000);
  let a: FlowSessionApi;
  let flowDir: string;
  const win = vscode.window as unknown as Record<string, unknown>;
  const replaced = ['showInputBox', 'showInformationMessage', 'showWarningMessage', 'showErrorMessage'];
  const original = Object.fromEntries(replaced.map((k) => [k, win[k]]));

  before(async () => {
    a = await api();
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(root, 'a workspace folder');
    flowDir = path.join(root, 'flex-hello');
    fs.mkdirSync(flowDir, { recursive: true });
    fs.writeFileSync(path.join(flowDir, 'flow.flex.yaml'), 'entry: hello:greet\n');
    fs.writeFileSync(path.join(flowDir, 'hello.py'), 'def greet(name: str = "flex") -> str:\n    return "Hello, " + name + "!"\n');
    fs.writeFileSync(path.join(flowDir, 'ask.prompty'), PROMPTY);
    // the run's input boxes take their defaults; notifications resolve at once (a command awaiting one would never end)
    win.showInputBox = async (o: vscode.InputBoxOptions) => o.value;
    for (const k of ['showInformationMessage', 'showWarningMessage', 'showErrorMessage']) win[k] = async () => undefined;
  });

  after(async () => {
    Object.assign(win, original);
    if (!a || !flowDir) return;
    const { manager } = await a.ctx.services();
    await manager.remove(flowDir).catch(() => undefined);
  });

  it('lists the folder in the Sessions view with its kinds, and each flow of it with its kind', async () => {
    const real = fs.realpathSync(flowDir);
    const item = await waitUntil('the flex folder in the Sessions view', 60_000, async () => {
      const node = (await a.sessions.getChildren()).find((n) => n.flowDir === real);
      return node ? { node, item: await a.sessions.getTreeItem(node) } : undefined;
    });
    assert.match(String(item.item.description), /flex/);
    assert.match(String(item.item.description), /prompty/);
    const children = await a.sessions.getChildren(item.node);
    const kinds = await Promise.all(children.map(async (c) => String((await a.sessions.getTreeItem(c)).description)));
    assert.ok(kinds.includes('flex flow') && kinds.includes('prompty'), kinds.join(', '));
  });

  it('puts Run, Batch and Validate lenses on flow.flex.yaml and on the .prompty', async () => {
    for (const file of ['flow.flex.yaml', 'ask.prompty']) {
      const uri = vscode.Uri.file(path.join(flowDir, file));
      await vscode.workspace.openTextDocument(uri);
      const lenses = await waitUntil(`the lenses of ${file}`, 30_000, async () => {
        const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
        return found && found.some((l) => l.command?.title === 'Run') ? found : undefined;
      });
      assert.deepStrictEqual(
        lenses.filter((l) => l.command?.command.startsWith('flowsession.')).map((l) => l.command?.title),
        ['Run', 'Batch', 'Validate'],
      );
    }
  });

  it("runs the flex flow from its Run lens in the folder's session, with prompt flow's result files", async () => {
    const uri = vscode.Uri.file(path.join(flowDir, 'flow.flex.yaml'));
    const lens = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)).find(
      (l) => l.command?.title === 'Run',
    );
    assert.ok(lens?.command);
    await vscode.commands.executeCommand(lens.command.command, ...(lens.command.arguments ?? []));
    const output = path.join(flowDir, '.promptflow', 'flow.output.json');
    const written = await waitUntil('flow.output.json of the run', 300_000, () =>
      fs.existsSync(output) ? (JSON.parse(fs.readFileSync(output, 'utf8')) as Record<string, unknown>) : undefined,
    );
    assert.deepStrictEqual(written, { output: 'Hello, flex!' });
    const { manager } = await a.ctx.services();
    assert.strictEqual((await manager.status(flowDir)).state, 'ready', 'the run used the folder session');
  });
});
