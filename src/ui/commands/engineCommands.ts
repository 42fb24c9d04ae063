import { FlowSessionError } from '../../core/errors';
import { showError } from '../feedback';
import type { CommandDeps } from './commandDeps';

/** Retry Engine Connection: connect again, say why it failed when it did, and refresh the views. */
export async function retryEngine(d: CommandDeps): Promise<void> {
  const ok = await d.ctx.retry();
  if (!ok) void showError(d.ctx, d.ctx.engineError ?? new FlowSessionError('engine-error', 'The engine is still unreachable.', ''));
  d.views.all(true);
}

export function showEngineError(d: CommandDeps): Promise<void> {
  return showError(
    d.ctx,
    d.ctx.engineError ??
      new FlowSessionError('engine-error', 'The Docker engine has not been asked yet.', 'Open the Sessions view or run a command.'),
  );
}

/** The views' Refresh button: the workspace's flows searched again, every view reloaded at once. */
export function refreshViews(d: CommandDeps): void {
  void d.index.refresh();
  d.views.all(true);
}
