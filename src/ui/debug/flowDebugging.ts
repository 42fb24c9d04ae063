import * as path from 'path';
import * as vscode from 'vscode';
import { checkLaunchConfiguration } from '../../core/debug/launchConfig';
import { errorMessage } from '../../core/errors';
import type { ProgressReport } from '../../core/docker/progress';
import type { CommandDeps } from '../commands/commandDeps';
import { logRunEvent, reportRunRecord } from '../commands/runCommands';
import { showError, withLongWork } from '../feedback';
import { resolveFlow } from '../flowIndex';
import { requireTrust } from '../workspaceTrust';
import { FlowDebugAdapter } from './flowDebugAdapter';

/** The debug type contributed in package.json (`contributes.debuggers`). */
export const DEBUG_TYPE = 'flowsession';

/** Registers the flowsession debug type: its configurations and its adapter. */
export function registerFlowDebugging(d: CommandDeps): vscode.Disposable[] {
  return [
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new FlowDebugConfigurations(d)),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new FlowDebugAdapterFactory(d)),
  ];
}

class FlowDebugConfigurations implements vscode.DebugConfigurationProvider {
  constructor(private readonly d: CommandDeps) {}

  /** launch.json's first configurations: one per flow of the folder. */
  async provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): Promise<vscode.DebugConfiguration[]> {
    const flows = (await this.d.index.list()).filter((f) => !folder || f.startsWith(folder.uri.fsPath));
    return flows.map((flow) => ({
      type: DEBUG_TYPE,
      request: 'launch',
      name: `Debug ${path.basename(flow)}`,
      flow: folder ? path.join('${workspaceFolder}', path.relative(folder.uri.fsPath, flow)) : flow,
    }));
  }

  /** F5 without launch.json debugs the active editor's flow; a configuration without `flow` asks which. */
  async resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration) {
    if (!config.type && !config.request && !config.name) {
      const flow = await resolveFlow(this.d.index, undefined, 'Debug which flow?');
      if (!flow) return undefined;
      return { type: DEBUG_TYPE, request: 'launch', name: `Debug ${path.basename(flow)}`, flow };
    }
    if (!config.flow) {
      const flow = await resolveFlow(this.d.index, undefined, 'Debug which flow?');
      if (!flow) return undefined;
      config.flow = flow;
    }
    return config;
  }

  resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration) {
    try {
      requireTrust('Debug Flow');
      const checked = checkLaunchConfiguration(config);
      const flow = folder && !path.isAbsolute(checked.flow) ? path.resolve(folder.uri.fsPath, checked.flow) : path.resolve(checked.flow);
      return { ...config, ...checked, flow };
    } catch (e) {
      void showError(this.d.ctx, e);
      return undefined;
    }
  }
}

class FlowDebugAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly d: CommandDeps) {}

  /** Starts the run under debugpy in its session and hands VS Code an adapter that talks to it through the engine. */
  async createDebugAdapterDescriptor(session: vscode.DebugSession): Promise<vscode.DebugAdapterDescriptor> {
    const { ctx } = this.d;
    requireTrust('Debug Flow');
    const config = checkLaunchConfiguration(session.configuration);
    const { runs, manager } = await ctx.services();
    const { startDebugRun } = await import('../../core/debug/debugRun');
    let report: (r: ProgressReport) => void = () => undefined;
    const run = startDebugRun(runs, manager, config, {
      connections: await ctx.connections.forRun(),
      onProgress: (r) => report(r),
      onEvent: (e) => logRunEvent(ctx, e),
    });
    ctx.log.info(`Debug run ${run.runId} of ${run.flowDir}${config.node ? ` (node ${config.node})` : ''}`);
    let attached = false;
    // once debugging, the run ends like any run: recorded, and reported when it is over
    void run.record.then(
      (r) => (attached ? reportRunRecord(this.d, r, 'Debug run') : undefined),
      (e) => (attached ? showError(ctx, e) : undefined),
    );
    try {
      const bridge = await withLongWork(ctx, `Starting the debug run of ${path.basename(run.flowDir)}`, true, async (w) => {
        report = (r) => w.report(r);
        w.signal.addEventListener('abort', () => run.cancel());
        return run.bridge(config);
      });
      attached = true;
      return new vscode.DebugAdapterInlineImplementation(new FlowDebugAdapter(bridge));
    } catch (e) {
      run.cancel();
      ctx.log.error(`Debug run ${run.runId} did not start: ${errorMessage(e)}`);
      // VS Code shows this message where the debug session would have started
      throw new Error(errorMessage(e));
    } finally {
      report = () => undefined;
    }
  }
}
