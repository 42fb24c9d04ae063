/**
 * "Run Node": runs one node of a flow in its session panel, as `flowsession run --node` does (inputs from the flow's
 * defaults and the latest run's upstream outputs). The node is the argument (the CodeLens passes it), else the node
 * under the cursor in flow.dag.yaml, else the node whose source file is the active editor (a pick when several are).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { FLOW_FILE } from '../../core/flow/dagDocument';
import { nodeAtLine, nodeLines, nodesWithSource } from '../../core/flow/nodeLocator';
import { runNodeInPanel } from '../panelBridge';
import type { CommandDeps } from './commandDeps';

/** The CodeLens and editor title pass the flow file and the node; the palette passes nothing. */
export async function runNode(d: CommandDeps, uri?: unknown, node?: unknown): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const file = uri instanceof vscode.Uri ? uri : editor?.document.uri;
  if (!file || file.scheme !== 'file') {
    void vscode.window.showWarningMessage("Run Node: open flow.dag.yaml (cursor on a node) or a node's source file first.");
    return;
  }
  const flowDir = path.basename(file.fsPath) === FLOW_FILE ? path.dirname(file.fsPath) : d.index.flowOf(file);
  if (!flowDir) {
    void vscode.window.showWarningMessage(`Run Node: ${path.basename(file.fsPath)} is not part of a flow.`);
    return;
  }
  const name = typeof node === 'string' && node ? node : await pickNode(flowDir, file, editor);
  if (!name) return;
  await runNodeInPanel(d.panel(), flowDir, name);
}

async function pickNode(flowDir: string, file: vscode.Uri, editor: vscode.TextEditor | undefined): Promise<string | undefined> {
  const flowFile = path.join(flowDir, FLOW_FILE);
  const sameFile = editor?.document.uri.fsPath === file.fsPath;
  // the editor's text, saved or not, when it is the flow file; the file on disk otherwise
  const text = sameFile && file.fsPath === flowFile ? editor.document.getText() : fs.readFileSync(flowFile, 'utf8');
  let names: string[];
  if (file.fsPath === flowFile) {
    const at = sameFile ? nodeAtLine(text, editor.selection.active.line + 1) : undefined;
    names = at ? [at] : nodeLines(text).map((n) => n.name);
  } else {
    names = nodesWithSource(text, path.relative(flowDir, file.fsPath));
  }
  if (names.length === 0) {
    void vscode.window.showWarningMessage(`Run Node: no node of ${FLOW_FILE} uses ${path.basename(file.fsPath)}.`);
    return undefined;
  }
  if (names.length === 1) return names[0];
  return vscode.window.showQuickPick(names, { title: 'Run which node?' });
}

/** "▶ Run Node" above every node of flow.dag.yaml. */
export class RunNodeCodeLens implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    return nodeLines(document.getText()).map(
      (n) =>
        new vscode.CodeLens(new vscode.Range(n.line - 1, 0, n.line - 1, 0), {
          title: '$(play) Run Node',
          tooltip: `Run ${n.name} alone, with its inputs from the flow's defaults and the latest run`,
          command: 'flowsession.runNode',
          arguments: [document.uri, n.name],
        }),
    );
  }
}

export function registerRunNodeCodeLens(): vscode.Disposable {
  return vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: `**/${FLOW_FILE}` }, new RunNodeCodeLens());
}
