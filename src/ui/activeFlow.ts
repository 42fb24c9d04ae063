import { currentEngineLabel } from './enginePicker';
import * as path from 'path';
import * as vscode from 'vscode';
import type { SessionStatus } from '../core/session/state';
import type { Ctx } from './ctx';
import type { FlowIndex } from './flowIndex';
import { describeState, isRunning, STATE_LOOK } from './stateView';

/**
 * Follows the active editor's flow: sets the context keys the command `when` clauses use
 * (flowsession.activeFlow, flowsession.activeFlowState, flowsession.activeFlowOutdated) and drives the
 * status bar item; ViewRefresh tells it when to update. Touches the engine only once services exist (a
 * view, a command or a save made them).
 */
export class ActiveFlow implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('flowsession.status', vscode.StatusBarAlignment.Left, 50);
  private flowDir?: string;
  private status?: SessionStatus;
  private seq = 0;

  constructor(
    private readonly ctx: Ctx,
    private readonly index: FlowIndex,
  ) {
    this.item.name = 'Flow Session';
    void this.update();
  }

  get current(): { flowDir?: string; status?: SessionStatus } {
    return { flowDir: this.flowDir, status: this.status };
  }

  async update(): Promise<void> {
    const seq = ++this.seq;
    const active = this.index.activeFlow();
    // the active editor's flow is known at once: its commands must not wait for the workspace file search,
    // which takes seconds on a busy machine; its session's state follows
    if (active && active !== this.flowDir) this.publish(active, undefined);
    const flowDir = active ?? (await this.index.list().then((l) => (l.length === 1 ? l[0] : undefined)));
    let status: SessionStatus | undefined;
    const services = this.ctx.loadedServices();
    if (flowDir && services && this.ctx.engineState !== 'unreachable')
      status = await services.manager.status(flowDir).catch(() => undefined);
    if (seq !== this.seq) return;
    this.publish(flowDir, status);
  }

  private publish(flowDir: string | undefined, status: SessionStatus | undefined): void {
    this.flowDir = flowDir;
    this.status = status;
    const set = (k: string, v: unknown) => void vscode.commands.executeCommand('setContext', k, v);
    set('flowsession.activeFlow', !!flowDir);
    set('flowsession.activeFlowState', status?.state ?? (flowDir ? 'unknown' : ''));
    set('flowsession.activeFlowOutdated', !!status?.outdated);
    this.render(flowDir, status);
  }

  private render(flowDir: string | undefined, status: SessionStatus | undefined): void {
    if (!flowDir) {
      this.item.hide();
      return;
    }
    const name = path.basename(flowDir);
    if (this.ctx.engineState === 'unreachable') {
      this.item.text = '$(warning) Flow session: no engine';
      this.item.tooltip = `${this.ctx.engineError?.describe() ?? 'The Docker engine is unreachable.'}\nClick to retry.`;
      this.item.command = 'flowsession.retryEngine';
    } else if (
      !status ||
      (!isRunning(status.state) && (status.state === 'not-created' || status.state === 'stopped' || status.state === 'failed'))
    ) {
      this.item.text = `$(play) Start flow session`;
      this.item.tooltip = `${name}: ${status ? describeState(status) : 'no session checked yet'}.\nOnly the static checks run without a session; click to start one (flowsession.autoStartSession starts it on save).`;
      this.item.command = { command: 'flowsession.startSession', title: 'Start Session', arguments: [flowDir] };
    } else {
      const engine = currentEngineLabel(this.ctx);
      // a session away from the local engine says where it lives
      const where = engine && !/^(unix|npipe):/.test(engine) ? ` @ ${engine.replace(/^[a-z]+:\/\//, '')}` : '';
      this.item.text = `$(${STATE_LOOK[status.state].icon}) Flow session: ${describeState(status)}${where}`;
      this.item.tooltip = `${name}: ${describeState(status)} on ${status.engine}${status.reason ? `\n${status.reason}` : ''}\nClick to open the session panel.`;
      this.item.command = { command: 'flowsession.openPanel', title: 'Open Session Panel', arguments: [flowDir] };
    }
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
