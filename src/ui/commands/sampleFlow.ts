import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { FlowSessionError } from '../../core/errors';
import type { CommandDeps } from './commandDeps';

/** The shipped sample flow: samples/hello-flow, copied into dist by the build (scripts/build.mjs). */
export function sampleFlowDir(extensionPath: string): string {
  return path.join(extensionPath, 'dist', 'samples', 'hello-flow');
}

/** Create Sample Flow: a copy of the shipped sample in a new hello-flow folder of the first workspace folder. */
export async function createSampleFlow(d: CommandDeps): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showWarningMessage('Open a folder first; the sample flow is created in it.');
    return;
  }
  const sample = sampleFlowDir(d.ctx.extensionUri.fsPath);
  if (!fs.existsSync(path.join(sample, 'flow.dag.yaml')))
    throw new FlowSessionError(
      'bad-input',
      `The sample flow is missing from the extension (${sample}).`,
      'Reinstall the extension, or run `npm run build` when running it from its sources.',
    );
  let dir = path.join(folder.uri.fsPath, 'hello-flow');
  for (let i = 2; fs.existsSync(dir); i++) dir = path.join(folder.uri.fsPath, `hello-flow-${i}`);
  fs.cpSync(sample, dir, { recursive: true, errorOnExist: true, force: false });
  d.ctx.log.info(`Created a sample flow in ${dir}`);
  await d.index.refresh();
  await vscode.window.showTextDocument(vscode.Uri.file(path.join(dir, 'flow.dag.yaml')));
}
