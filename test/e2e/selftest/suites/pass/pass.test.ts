import * as assert from 'assert';
import * as vscode from 'vscode';

describe('harness self-test: passing suite', () => {
  it('runs in a real extension host with the workspace open', () => {
    assert.ok(vscode.version);
    assert.strictEqual(vscode.workspace.workspaceFolders?.length, 1);
  });
  it('sees the extension environment', () => {
    assert.strictEqual(process.env.FLOWSESSION_E2E_SELFTEST, 'yes');
  });
  it('runs commands', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'hello' });
    await vscode.window.showTextDocument(doc);
    assert.strictEqual(vscode.window.activeTextEditor?.document.getText(), 'hello');
  });
});
