import * as crypto from 'crypto';
import * as path from 'path';

/**
 * A run id in prompt flow's style: flow folder name, time, and a random suffix. It starts with a letter or
 * digit and holds no dots, so it is always a valid run folder name (the webview protocol's RUN_ID).
 */
export function newRunId(flowDir: string, kind: 'run' | 'batch' = 'run'): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '_');
  const name =
    path
      .basename(flowDir)
      .replace(/[^A-Za-z0-9_-]/g, '_')
      .replace(/^[_-]+/, '')
      .slice(0, 40) || 'flow';
  return `${name}_${kind}_${stamp}_${crypto.randomBytes(3).toString('hex')}`;
}
