import * as vscode from 'vscode';
import type { TtyExec } from '../core/docker/engine';
import { errorMessage } from '../core/errors';
import type { Ctx } from './ctx';

const SESSION_USER = '10001:10001';
const SHELL = ['/bin/sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi'];

/** A terminal attached to a shell in the session container: a Pseudoterminal over an engine exec with a TTY. */
export class SessionTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  private exec?: TtyExec;
  private size = { cols: 80, rows: 24 };

  constructor(
    private readonly ctx: Ctx,
    private readonly containerId: string,
    private readonly label: string,
  ) {}

  open(initial: vscode.TerminalDimensions | undefined): void {
    if (initial) this.size = { cols: initial.columns, rows: initial.rows };
    void this.start();
  }

  private async start(): Promise<void> {
    try {
      const services = await this.ctx.services();
      this.exec = await services.engine.execTty(this.containerId, SHELL, {
        user: SESSION_USER,
        workingDir: '/flow',
        env: ['TERM=xterm-256color'],
        cols: this.size.cols,
        rows: this.size.rows,
      });
      this.exec.onData((t) => this.writeEmitter.fire(t));
      void this.exec.exited.then((code) => this.closeEmitter.fire(code));
    } catch (e) {
      this.writeEmitter.fire(`\r\nCould not open a shell in the session ${this.label}: ${errorMessage(e)}\r\n`);
      this.closeEmitter.fire(1);
    }
  }

  handleInput(data: string): void {
    this.exec?.write(data);
  }

  setDimensions(d: vscode.TerminalDimensions): void {
    this.size = { cols: d.columns, rows: d.rows };
    void this.exec?.resize(d.columns, d.rows).catch(() => undefined);
  }

  close(): void {
    this.exec?.close();
    this.writeEmitter.dispose();
    this.closeEmitter.dispose();
  }
}
