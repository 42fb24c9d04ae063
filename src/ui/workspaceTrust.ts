import * as vscode from 'vscode';
import { FlowSessionError } from '../core/errors';

/**
 * Workspace Trust: in Restricted Mode the Sessions view, the schema and the static checks work, but nothing starts a
 * session or runs the flow's code, since a flow folder from someone else decides what that code does. The one list
 * of what is refused, and the one check; trust is read at each use, so granting it needs no reload.
 */
export const NEEDS_TRUST: Readonly<Record<string, string>> = {
  'flowsession.startSession': 'Start Session',
  'flowsession.restartSession': 'Restart Session',
  'flowsession.resetSession': 'Reset Session',
  'flowsession.installPackages': 'Install Packages',
  'flowsession.installRequirements': 'Install Requirements',
  'flowsession.openTerminal': 'Open Terminal in Session',
  'flowsession.runFlow': 'Run Flow',
  'flowsession.runBatch': 'Run Batch',
  'flowsession.debugFlow': 'Debug Flow',
  'flowsession.debugNode': 'Debug Node',
  'flowsession.runNode': 'Run Node',
  'flowsession.buildCustomImage': 'Build Custom Image',
};

export const MANAGE_TRUST = 'Manage Workspace Trust';

/** Refused because the workspace is not trusted; the notification offers to manage trust. */
export class RestrictedModeError extends FlowSessionError {
  constructor(what: string) {
    super(
      'bad-input',
      `${what} is not available in Restricted Mode: it would start a session that runs this workspace's flow code.`,
      'Trust the workspace to start sessions and run flows; the static checks work without it.',
    );
  }
}

/** Whether sessions may start and flow code may run here. */
export function sessionsAllowed(): boolean {
  return vscode.workspace.isTrusted;
}

/** Throws a RestrictedModeError for `what` unless the workspace is trusted. */
export function requireTrust(what: string): void {
  if (!sessionsAllowed()) throw new RestrictedModeError(what);
}

/** Opens the Workspace Trust editor. */
export function manageTrust(): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.trust.manage');
}
