import * as vscode from 'vscode';
import type { ProgressReport } from '../core/docker/progress';
import type { RunOptions } from '../core/runs/runService';
import type { SessionChange } from '../core/session/sessionManager';
import type { SessionProgress } from '../core/session/state';
import type { Ctx } from './ctx';
import type { PanelServices } from './panel/panelServices';
import { showError } from './feedback';
import { SessionPanel } from './panel/sessionPanel';
import { requireTrust, sessionsAllowed } from './workspaceTrust';

/**
 * The session panel's view of the extension (src/ui/panel is built separately): every call goes to the
 * current services of the Ctx, so the panel keeps working across engine reconnections. Starting, resetting and
 * running are refused in Restricted Mode, as the commands are.
 */
export function panelServices(ctx: Ctx, progress: vscode.Event<{ flowDir: string; report: ProgressReport }>): PanelServices {
  return {
    sessions: {
      status: async (flowDir: string) => (await ctx.services()).manager.status(flowDir),
      packages: async (flowDir: string) => (await ctx.services()).manager.packages(flowDir),
      up: async (flowDir: string, onProgress?: SessionProgress) => {
        trusted(ctx, 'Start Session');
        return (await ctx.services()).manager.up(flowDir, onProgress);
      },
      reset: async (flowDir: string, onProgress?: SessionProgress) => {
        trusted(ctx, 'Reset Session');
        return (await ctx.services()).manager.reset(flowDir, onProgress);
      },
      onDidChange: (listener: (c: SessionChange) => void) => ctx.onDidChangeSession(listener),
    },
    runs: {
      run: async (flowDir: string, options?: RunOptions) => {
        trusted(ctx, 'Run Flow');
        return (await ctx.services()).runs.run(flowDir, options);
      },
      cancel: async (runId: string) => (await ctx.services()).runs.cancel(runId),
    },
    connectionsFor: () => ctx.connections.forRun(),
    log: ctx.log,
    extensionUri: ctx.extensionUri,
    onDidReportProgress: (listener) => progress((e) => listener(e.flowDir, e.report)),
    // only a running session is asked, and only in a trusted workspace: reading the signature imports the flow's code
    entryInputs: async (flowDir: string) => {
      if (!sessionsAllowed()) return undefined;
      const report = await (await ctx.services()).validator.validate(flowDir, { session: 'if-running', writeToolsJson: false });
      return report.entry?.inputs;
    },
  };
}

/** The panel shows a refusal as its notice; the notification says it too, with the way to manage trust. */
function trusted(ctx: Ctx, what: string): void {
  try {
    requireTrust(what);
  } catch (e) {
    void showError(ctx, e);
    throw e;
  }
}

/** Opens (or reveals) the session panel of a flow. The one place that knows the panel's entry point. */
export function openSessionPanel(services: PanelServices, flowDir: string): void {
  SessionPanel.show(services, flowDir);
}

/** Opens the session panel of a flow and runs one node there, as `run --node` does. */
export function runNodeInPanel(services: PanelServices, flowDir: string, node: string): Promise<void> {
  return SessionPanel.show(services, flowDir).runNode(node);
}

export function registerPanelSerializer(services: PanelServices): vscode.Disposable {
  return vscode.Disposable.from(SessionPanel.registerSerializer(services), { dispose: () => SessionPanel.disposeAll() });
}
