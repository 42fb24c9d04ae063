import * as vscode from 'vscode';
import type { DapMessage } from '../../core/debug/dapFraming';
import type { DebugBridge } from '../../core/debug/debugBridge';

/**
 * The flowsession debug type's adapter, inside the extension host: VS Code's messages go to the bridge, which
 * carries them to debugpy in the session through the engine; debugpy's come back the same way. No other extension
 * and no local port is involved.
 */
export class FlowDebugAdapter implements vscode.DebugAdapter {
  private readonly sent = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.sent.event;

  constructor(private readonly bridge: DebugBridge) {
    bridge.onMessage((m) => this.sent.fire(m as vscode.DebugProtocolMessage));
  }

  handleMessage(message: vscode.DebugProtocolMessage): void {
    this.bridge.fromClient(message as DapMessage);
  }

  dispose(): void {
    this.bridge.dispose();
    this.sent.dispose();
  }
}
