import * as path from 'path';
import * as vscode from 'vscode';
import type { ProgressReport } from '../../core/docker/progress';
import { FlowSessionError } from '../../core/errors';
import type { SessionManager } from '../../core/session/sessionManager';
import type { SessionStatus } from '../../core/session/state';
import { withLongWork } from '../feedback';
import { resolveFlow, type FlowArg } from '../flowIndex';
import { openSessionPanel } from '../panelBridge';
import { isRunning } from '../stateView';
import { SessionTerminal } from '../terminal';
import type { CommandDeps } from './commandDeps';

const name = (flowDir: string) => path.basename(flowDir);

/** Session work in a notification whose progress also goes to the flow's session panel. */
function sessionWork(
  d: CommandDeps,
  flowDir: string,
  title: string,
  fn: (onProgress: (r: ProgressReport) => void) => Promise<SessionStatus | string>,
): Thenable<SessionStatus | string> {
  return withLongWork(d.ctx, title, false, (w) =>
    fn((r) => {
      w.report(r);
      d.progress.fire({ flowDir, report: r });
    }),
  );
}

/** The flow a command acts on and its session manager; nothing when no flow was chosen. */
async function sessionOf(
  d: CommandDeps,
  arg: FlowArg,
  purpose?: string,
): Promise<{ flowDir: string; manager: SessionManager } | undefined> {
  const flowDir = await resolveFlow(d.index, arg, purpose);
  return flowDir ? { flowDir, manager: (await d.ctx.services()).manager } : undefined;
}

/** A modal question with one action; true when the user chose it. */
async function confirmed(question: string, detail: string, action: string): Promise<boolean> {
  return (await vscode.window.showWarningMessage(question, { modal: true, detail }, action)) === action;
}

/** Starts a flow's session; true when it runs. */
export async function startSession(d: CommandDeps, arg: FlowArg): Promise<boolean> {
  const flowDir = await resolveFlow(d.index, arg, 'Start the session of which flow?');
  if (!flowDir) return false;
  const { manager } = await d.ctx.services();
  const status = (await sessionWork(d, flowDir, `Starting the session of ${name(flowDir)}`, (p) =>
    manager.up(flowDir, p),
  )) as SessionStatus;
  d.ctx.log.info(`Session of ${flowDir} is ${status.state} (${status.containerName ?? ''})`);
  if (status.outdated) {
    void vscode.window
      .showWarningMessage(`The session of ${name(flowDir)} does not match the flow's environment any more.`, 'Reset Session')
      .then((c) => {
        if (c) void vscode.commands.executeCommand('flowsession.resetSession', flowDir);
      });
  }
  void d.validation.validateNow(flowDir);
  return isRunning(status.state);
}

/** The session manager, once the flow's session runs (started when it does not). */
async function runningSession(d: CommandDeps, flowDir: string): Promise<SessionManager> {
  const { manager } = await d.ctx.services();
  if (!isRunning((await manager.status(flowDir)).state)) await startSession(d, flowDir);
  return manager;
}

export async function stopSession(d: CommandDeps, arg: FlowArg): Promise<void> {
  const { flowDir, manager } = (await sessionOf(d, arg, 'Stop the session of which flow?')) ?? {};
  if (!flowDir || !manager) return;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Stopping the session of ${name(flowDir)}` },
    () => manager.stop(flowDir),
  );
}

export async function restartSession(d: CommandDeps, arg: FlowArg): Promise<void> {
  const { flowDir, manager } = (await sessionOf(d, arg)) ?? {};
  if (!flowDir || !manager) return;
  await sessionWork(d, flowDir, `Restarting the session of ${name(flowDir)}`, (p) => manager.restart(flowDir, p));
}

export async function resetSession(d: CommandDeps, arg: FlowArg): Promise<void> {
  const { flowDir, manager } = (await sessionOf(d, arg, 'Reset the session of which flow?')) ?? {};
  if (!flowDir || !manager) return;
  const detail = "It is recreated with the flow's current environment (base image, requirements). Packages installed by hand are removed.";
  if (!(await confirmed(`Reset the session of ${name(flowDir)}?`, detail, 'Reset'))) return;
  await sessionWork(d, flowDir, `Resetting the session of ${name(flowDir)}`, (p) => manager.reset(flowDir, p));
  void d.validation.validateNow(flowDir);
}

export async function deleteSession(d: CommandDeps, arg: FlowArg): Promise<void> {
  const { flowDir, manager } = (await sessionOf(d, arg, 'Delete the session of which flow?')) ?? {};
  if (!flowDir || !manager) return;
  const detail = 'The container is removed; the flow folder is not touched. Packages installed by hand are lost.';
  if (!(await confirmed(`Delete the session of ${name(flowDir)}?`, detail, 'Delete'))) return;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Deleting the session of ${name(flowDir)}` },
    () => manager.remove(flowDir),
  );
}

export async function installPackages(d: CommandDeps, arg: FlowArg): Promise<void> {
  const flowDir = await resolveFlow(d.index, arg, 'Install packages into the session of which flow?');
  if (!flowDir) return;
  const input = await vscode.window.showInputBox({
    title: `Install packages into the session of ${name(flowDir)}`,
    prompt:
      'pip requirement specifiers, separated by spaces (they last until the session is reset; put them in requirements.txt to keep them)',
    placeHolder: 'requests==2.32.3 tenacity',
    validateInput: (v) => (v.trim() ? undefined : 'Name at least one package.'),
  });
  if (!input) return;
  const manager = await runningSession(d, flowDir);
  const tail = await sessionWork(d, flowDir, `Installing into ${name(flowDir)}`, (p) =>
    manager.install(flowDir, input.trim().split(/\s+/), p),
  );
  void vscode.window.showInformationMessage(
    `Installed ${input.trim()} into the session of ${name(flowDir)}. ${String(tail).split('\n').pop() ?? ''}`,
  );
  void d.validation.validateNow(flowDir);
}

export async function installRequirements(d: CommandDeps, arg: FlowArg): Promise<void> {
  const flowDir = await resolveFlow(d.index, arg, 'Install the requirements of which flow?');
  if (!flowDir) return;
  const manager = await runningSession(d, flowDir);
  await sessionWork(d, flowDir, `Installing the requirements of ${name(flowDir)}`, (p) => manager.installRequirements(flowDir, p));
  void vscode.window.showInformationMessage(`Installed the requirements of ${name(flowDir)} into its session.`);
  void d.validation.validateNow(flowDir);
}

export async function showPackages(d: CommandDeps, arg: FlowArg): Promise<void> {
  const { flowDir, manager } = (await sessionOf(d, arg, "Show the packages of which flow's session?")) ?? {};
  if (!flowDir || !manager) return;
  const pkgs = await manager.packages(flowDir);
  const origin = { base: 'base image', requirements: 'requirements', 'by-hand': 'installed by hand (lost on reset)' };
  await vscode.window.showQuickPick(
    pkgs.map((p) => ({ label: p.name, description: p.version, detail: origin[p.origin] })),
    {
      title: `${pkgs.length} packages in the session of ${name(flowDir)}`,
      matchOnDescription: true,
      matchOnDetail: true,
    },
  );
}

export async function validateFlow(d: CommandDeps, arg: FlowArg): Promise<void> {
  const flowDir = await resolveFlow(d.index, arg, 'Validate which flow?');
  if (!flowDir) return;
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Validating ${name(flowDir)}` }, () =>
    d.validation.validateNow(flowDir),
  );
  const problems = vscode.languages
    .getDiagnostics()
    .filter(([u, ds]) => u.fsPath.startsWith(flowDir + path.sep) && ds.some((x) => x.source === 'flowsession'));
  if (problems.length > 0) void vscode.commands.executeCommand('workbench.actions.view.problems');
  else void vscode.window.setStatusBarMessage(`$(check) ${name(flowDir)}: no problems`, 4000);
}

export async function openPanel(d: CommandDeps, arg: FlowArg): Promise<void> {
  const flowDir = await resolveFlow(d.index, arg, 'Open the session panel of which flow?');
  if (flowDir) openSessionPanel(d.panel(), flowDir);
}

export async function openTerminal(d: CommandDeps, arg: FlowArg): Promise<void> {
  const { flowDir, manager } = (await sessionOf(d, arg, 'Open a terminal in the session of which flow?')) ?? {};
  if (!flowDir || !manager) return;
  let status = await manager.status(flowDir);
  if (!isRunning(status.state)) {
    const answer = await vscode.window.showInformationMessage(`The session of ${name(flowDir)} is ${status.state}.`, 'Start Session');
    if (answer !== 'Start Session' || !(await startSession(d, flowDir))) return;
    status = await manager.status(flowDir);
  }
  if (!status.container) throw new FlowSessionError('session-not-found', `No session container for ${flowDir}.`, 'Start the session.');
  const terminal = vscode.window.createTerminal({
    name: `Session: ${name(flowDir)}`,
    pty: new SessionTerminal(d.ctx, status.container, name(flowDir)),
    iconPath: new vscode.ThemeIcon('vm'),
  });
  terminal.show();
}
