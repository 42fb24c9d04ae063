import * as path from 'path';
import type { FlowFile } from '../fs/flowArchive';

/** debugpy's `pathMappings` entry: a folder (or file) on this machine and where the session has it. */
export interface PathMapping {
  localRoot: string;
  remoteRoot: string;
}

/**
 * Where the session's copy of each flow file comes from on this machine. The flow folder maps to the session's flow
 * folder; what was copied from elsewhere (an `additional_includes` entry, a symlink followed out of the flow folder)
 * maps from its real place to where it landed, so a breakpoint set in that file is hit too and a stack frame opens
 * the file the code came from. Most specific first: debugpy takes the first mapping that fits.
 *
 * `files` is the flow's listing as the session gets it (listFlowFiles: `abs` are real paths); `realFlowDir` the flow
 * folder with its links resolved.
 */
export function debugPathMappings(flowDir: string, realFlowDir: string, files: FlowFile[], remoteFlowDir: string): PathMapping[] {
  const roots: { real: string; mapping: PathMapping }[] = [
    { real: realFlowDir, mapping: { localRoot: flowDir, remoteRoot: remoteFlowDir } },
  ];
  if (realFlowDir !== flowDir) roots.push({ real: realFlowDir, mapping: { localRoot: realFlowDir, remoteRoot: remoteFlowDir } });
  // parents before children: a folder mapped from elsewhere covers what it holds
  for (const f of [...files].sort((a, b) => a.name.split('/').length - b.name.split('/').length || a.name.localeCompare(b.name))) {
    const remote = `${remoteFlowDir}/${f.name}`;
    if (coveredLocal(roots, remote) === f.abs) continue;
    roots.push({ real: f.abs, mapping: { localRoot: f.abs, remoteRoot: remote } });
  }
  return roots.map((r) => r.mapping).sort((a, b) => b.remoteRoot.length - a.remoteRoot.length);
}

/** The real local path the most specific mapping so far gives a session path. */
function coveredLocal(roots: { real: string; mapping: PathMapping }[], remote: string): string | undefined {
  let best: { real: string; mapping: PathMapping } | undefined;
  for (const r of roots) {
    const base = r.mapping.remoteRoot;
    if ((remote === base || remote.startsWith(`${base}/`)) && (!best || base.length > best.mapping.remoteRoot.length)) best = r;
  }
  if (!best) return undefined;
  const rest = remote.slice(best.mapping.remoteRoot.length).split('/').filter(Boolean);
  return rest.length ? path.join(best.real, ...rest) : best.real;
}
