/**
 * Every command of the extension: the table from command id (package.json `contributes.commands`) to
 * its handler, registered in one place. The handlers live in one module per area; none imports another.
 */
import * as vscode from 'vscode';
import { selectEngine } from '../enginePicker';
import { showError } from '../feedback';
import type { CommandDeps } from './commandDeps';
import { setConnection } from './connectionCommands';
import { refreshViews, retryEngine, showEngineError } from './engineCommands';
import * as images from './imageCommands';
import { cancelRun, runBatch, runFlow, trackRunActive } from './runCommands';
import { debugFlow, debugNode } from './debugCommands';
import { registerRunNodeCodeLens, runNode } from './runNodeCommand';
import { createSampleFlow } from './sampleFlow';
import * as sessions from './sessionCommands';
import { NEEDS_TRUST, requireTrust } from '../workspaceTrust';

/** A handler takes what VS Code passes (a tree row, a Uri, a path, nothing); each handler checks its own arguments. */
type Handler = (...args: never[]) => unknown;

export function commandTable(d: CommandDeps): Record<string, Handler> {
  return {
    // sessions
    'flowsession.startSession': (arg) => sessions.startSession(d, arg),
    'flowsession.stopSession': (arg) => sessions.stopSession(d, arg),
    'flowsession.restartSession': (arg) => sessions.restartSession(d, arg),
    'flowsession.resetSession': (arg) => sessions.resetSession(d, arg),
    'flowsession.deleteSession': (arg) => sessions.deleteSession(d, arg),
    'flowsession.installPackages': (arg) => sessions.installPackages(d, arg),
    'flowsession.installRequirements': (arg) => sessions.installRequirements(d, arg),
    'flowsession.showPackages': (arg) => sessions.showPackages(d, arg),
    'flowsession.validateFlow': (arg) => sessions.validateFlow(d, arg),
    'flowsession.openPanel': (arg) => sessions.openPanel(d, arg),
    'flowsession.openTerminal': (arg) => sessions.openTerminal(d, arg),
    // runs
    'flowsession.runFlow': (arg) => runFlow(d, arg),
    'flowsession.runBatch': (arg) => runBatch(d, arg),
    'flowsession.cancelRun': () => cancelRun(d),
    'flowsession.debugFlow': (arg, inputs) => debugFlow(d, arg, inputs),
    'flowsession.debugNode': (arg, node, inputs) => debugNode(d, arg, node, inputs),
    'flowsession.runNode': (uri, node) => runNode(d, uri, node),
    // images
    'flowsession.changeBaseImage': (arg, preset) => images.changeBaseImage(d, arg, preset),
    'flowsession.newCustomImage': (folder) => images.newCustomImage(d, folder),
    'flowsession.buildCustomImage': (arg) => images.buildCustomImage(d, arg),
    'flowsession.publishCustomImage': (arg) => images.publishCustomImage(d, arg),
    'flowsession.checkBaseImageUpdates': (arg) => images.checkBaseImageUpdates(d, arg),
    'flowsession.useCustomImage': (arg) => images.useCustomImage(arg),
    // connections and engines
    'flowsession.setConnection': () => setConnection(d.ctx),
    'flowsession.selectEngine': () => selectEngine(d.ctx),
    'flowsession.retryEngine': () => retryEngine(d),
    'flowsession.showEngineError': () => showEngineError(d),
    // views and workspace
    'flowsession.showLogs': () => d.ctx.log.show(),
    'flowsession.refresh': () => refreshViews(d),
    'flowsession.createSampleFlow': () => createSampleFlow(d),
  };
}

/**
 * Registers the table; a handler's errors become notifications (message, remedy, Retry/Open Settings), never stacks.
 * In Restricted Mode the commands that start a session or run flow code say why instead of running.
 */
export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const registered = Object.entries(commandTable(d)).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        if (NEEDS_TRUST[id]) requireTrust(NEEDS_TRUST[id]);
        return await (handler as (...a: unknown[]) => unknown)(...args);
      } catch (e) {
        void showError(d.ctx, e, () => vscode.commands.executeCommand(id, ...args));
        return undefined;
      }
    }),
  );
  return [...registered, trackRunActive(d.ctx), registerRunNodeCodeLens()];
}
