import * as vscode from 'vscode';
import type { ProgressReport } from '../core/docker/progress';
import { errorMessage, isFlowSessionError } from '../core/errors';
import type { Ctx } from './ctx';
import { MANAGE_TRUST, manageTrust, RestrictedModeError } from './workspaceTrust';

/** One line of progress for a notification: "[phase] message 42%". */
export function describeProgress(r: ProgressReport): string | undefined {
  if (r.message) return `${r.phase ? `${r.phase}: ` : ''}${r.message}${r.percent !== undefined ? ` (${Math.round(r.percent)}%)` : ''}`;
  if (r.phase && r.percent !== undefined) return `${r.phase} (${Math.round(r.percent)}%)`;
  return undefined;
}

/**
 * Shows an error as the user can act on it: the message (and remedy), "Show Logs", and for an unreachable
 * engine "Retry" and "Open Settings". Never a stack.
 */
export async function showError(ctx: Ctx, e: unknown, retry?: () => unknown): Promise<void> {
  if (isFlowSessionError(e) && e.kind === 'cancelled') return;
  const text = errorMessage(e);
  ctx.log.error(text);
  if (isFlowSessionError(e) && e.detail) ctx.log.error(e.detail);
  if (e instanceof RestrictedModeError) {
    if ((await vscode.window.showWarningMessage(text, MANAGE_TRUST)) === MANAGE_TRUST) await manageTrust();
    return;
  }
  const unreachable = isFlowSessionError(e) && e.engineUnreachable;
  const actions = unreachable ? ['Retry', 'Open Settings'] : retry ? ['Retry', 'Show Logs'] : ['Show Logs'];
  const choice = await vscode.window.showErrorMessage(text, ...actions);
  if (choice === 'Retry') {
    if (unreachable) await ctx.retry();
    if (retry) await retry();
  } else if (choice === 'Open Settings') {
    await vscode.commands.executeCommand(
      'workbench.action.openSettings',
      '@ext:flowsession.flowsession flowsession.dockerHost flowsession.engine',
    );
  } else if (choice === 'Show Logs') {
    ctx.log.show(true);
  }
}

export interface LongWork {
  report(r: ProgressReport): void;
  token: vscode.CancellationToken;
  signal: AbortSignal;
}

/**
 * Long work in a notification with its current phase; log lines go to the output channel. `cancellable`
 * only where the engine allows stopping it (runs); the AbortSignal follows the notification's Cancel.
 */
export function withLongWork<T>(ctx: Ctx, title: string, cancellable: boolean, fn: (w: LongWork) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable }, async (progress, token) => {
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    let lastPercent = 0;
    try {
      return await fn({
        token,
        signal: abort.signal,
        report: (r) => {
          if (r.log) for (const line of r.log.split(/\r?\n/)) if (line.trim()) ctx.log.info(line.trimEnd());
          const message = describeProgress(r);
          if (!message) return;
          if (r.message) ctx.log.info(message);
          const increment = r.percent !== undefined && r.percent > lastPercent ? r.percent - lastPercent : undefined;
          if (r.percent !== undefined) lastPercent = r.percent;
          progress.report({ message, increment });
        },
      });
    } finally {
      sub.dispose();
    }
  });
}
