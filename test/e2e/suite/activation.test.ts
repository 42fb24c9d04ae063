/** Mode A: the extension activates by itself in a workspace with a flow.dag.yaml. */
import * as assert from 'assert';
import * as vscode from 'vscode';
import { waitUntil } from '../../support/waiting';

const EXTENSION_ID = 'flowsession.flowsession';

describe('activation', () => {
  it('opens a workspace with a flow', async () => {
    const flows = await vscode.workspace.findFiles('**/flow.dag.yaml');
    assert.ok(flows.length > 0, 'the test workspace has a flow.dag.yaml');
  });

  it('activates on workspaceContains:**/flow.dag.yaml without being asked', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is loaded`);
    await waitUntil('the extension to activate', 20_000, () => ext.isActive);
  });

  it('registers flowsession.showLogs, and it runs', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('flowsession.showLogs'), 'flowsession.showLogs is registered');
    await vscode.commands.executeCommand('flowsession.showLogs');
  });
});
