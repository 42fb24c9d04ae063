/**
 * What the session panel needs from the rest of the extension. The composition root implements it
 * (a SessionManager and a RunService fit `sessions` and `runs` as they are); tests pass fakes.
 */
import type * as vscode from 'vscode';
import type { ProgressReport } from '../../core/docker/progress';
import type { RunService } from '../../core/runs/runService';
import type { ConnectionSpec, FlexEntryMeta } from '../../core/runtime/protocol';
import type { SessionManager } from '../../core/session/sessionManager';

export interface Disposable {
  dispose(): void;
}

/** A vscode.LogOutputChannel fits. */
export interface PanelLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface PanelServices {
  sessions: Pick<SessionManager, 'status' | 'packages' | 'up' | 'reset' | 'onDidChange'>;
  runs: Pick<RunService, 'run' | 'cancel'>;
  /** The connections a run of this flow gets, secrets included; they go to the run only, never to the webview. */
  connectionsFor(flowDir: string): Promise<Record<string, ConnectionSpec>>;
  log: PanelLogger;
  /** Root of the installed extension: dist/webview and media are found under it. */
  extensionUri: vscode.Uri;
  /**
   * Progress of session work started elsewhere (commands), so the panel shows percent and log lines
   * for it too; without it the panel shows the phase from SessionManager.onDidChange only.
   */
  onDidReportProgress?(listener: (flowDir: string, report: ProgressReport) => void): Disposable;
  /** A flex flow's inputs as its running session reads the entry's signature; undefined without a running session. */
  entryInputs?(flowDir: string): Promise<FlexEntryMeta['inputs'] | undefined>;
}
