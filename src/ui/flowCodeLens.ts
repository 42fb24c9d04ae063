import * as vscode from 'vscode';
import { kindOfFileName } from '../core/flow/flowKind';

/** The files that get Run, Batch and Validate lenses: flex flow definitions and .prompty files. */
export const CODE_LENS_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', pattern: '**/*.prompty' },
  { scheme: 'file', pattern: '**/flow.flex.{yaml,yml}' },
];

/**
 * Run, Batch and Validate above a .prompty or a flow.flex.yaml, acting on that flow in its folder's session (the
 * same commands as the Sessions view's, given the file).
 */
export class FlowCodeLens implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const kind = kindOfFileName(document.uri.fsPath);
    if (kind !== 'prompty' && kind !== 'flex') return [];
    const top = new vscode.Range(0, 0, 0, 0);
    return [
      new vscode.CodeLens(top, { title: 'Run', command: 'flowsession.runFlow', arguments: [document.uri] }),
      new vscode.CodeLens(top, { title: 'Batch', command: 'flowsession.runBatch', arguments: [document.uri] }),
      new vscode.CodeLens(top, { title: 'Validate', command: 'flowsession.validateFlow', arguments: [document.uri] }),
    ];
  }
}

export function registerFlowCodeLens(): vscode.Disposable {
  return vscode.languages.registerCodeLensProvider(CODE_LENS_SELECTOR, new FlowCodeLens());
}
