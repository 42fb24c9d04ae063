import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Flow Session', { log: true });
  context.subscriptions.push(output, vscode.commands.registerCommand('flowsession.showLogs', () => output.show()));
}

export function deactivate(): void {}
