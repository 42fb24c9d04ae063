/** Test workspaces are copies inside the run folder: tests may edit and save files freely. */
import * as fs from 'fs';
import * as path from 'path';

export function copyWorkspace(src: string, runDir: string): string {
  const dest = path.join(runDir, 'workspace', path.basename(path.resolve(src)));
  fs.cpSync(src, dest, { recursive: true, filter: (f) => !/(^|\/)(\.promptflow|__pycache__|node_modules)$/.test(f) });
  return dest;
}
