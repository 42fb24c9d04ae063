import type { ManifestEntry } from '../runtime/protocol';
import type { FlowFile } from './flowArchive';

/** What a sync does to bring the session's copy from what its manifest says it holds to the flow files listed now. */
export interface SyncPlan {
  /** folders and files to copy */
  send: FlowFile[];
  /** paths the session holds that are gone here (the top-most of each removed tree) */
  remove: string[];
  /** files whose size or mtime changed but whose content the session already has: only their stamps change */
  restamp: Record<string, ManifestEntry>;
}

/** True when the path is one of the folders (or files) given, or under one of them. */
function within(name: string, paths: string[]): boolean {
  return paths.some((p) => name === p || name.startsWith(`${p}/`));
}

function isFolder(e: ManifestEntry | undefined): boolean {
  return e !== undefined && 'dir' in e;
}

/** The manifest's entry for a file as listed, with the given content hash. */
export function entryOf(f: FlowFile, hash: string): ManifestEntry {
  return f.dir ? { dir: true } : { size: f.size, mtimeMs: f.mtimeMs, hash };
}

/**
 * Diffs the listed files against the manifest. A file is read (hashed) only when its size matches and its mtime
 * does not (a touched or checked-out file), or when `recheck` names it (a saved file on a coarse clock); a file
 * whose size and mtime match is taken as held, however big.
 */
export async function planSync(
  files: FlowFile[],
  held: Record<string, ManifestEntry>,
  hashOf: (abs: string) => Promise<string>,
  recheck: ReadonlySet<string> = new Set(),
): Promise<SyncPlan> {
  const plan: SyncPlan = { send: [], remove: [], restamp: {} };
  const listed = new Set<string>();
  for (const f of files) {
    listed.add(f.name);
    const h = held[f.name];
    if (f.dir) {
      if (isFolder(h)) continue;
      if (h) plan.remove.push(f.name); // a file became a folder
      plan.send.push(f);
      continue;
    }
    if (!h || isFolder(h)) {
      if (h) plan.remove.push(f.name);
      plan.send.push(f);
      continue;
    }
    const was = h as Extract<ManifestEntry, { hash: string }>;
    if (was.size !== f.size) plan.send.push(f);
    else if (was.mtimeMs !== f.mtimeMs || recheck.has(f.name)) {
      const hash = await hashOf(f.abs);
      if (hash !== was.hash) plan.send.push(f);
      else if (was.mtimeMs !== f.mtimeMs) plan.restamp[f.name] = entryOf(f, hash);
    }
  }
  const gone = Object.keys(held)
    .filter((name) => !listed.has(name))
    .sort();
  for (const name of gone) if (!within(name, plan.remove)) plan.remove.push(name);
  return plan;
}

export function isEmptyPlan(plan: SyncPlan): boolean {
  return plan.send.length === 0 && plan.remove.length === 0 && Object.keys(plan.restamp).length === 0;
}

/** The manifest's entries after removing paths (with what is under them) and recording others, as the runtime does. */
export function nextEntries(
  entries: Record<string, ManifestEntry>,
  remove: string[],
  record: Record<string, ManifestEntry>,
): Record<string, ManifestEntry> {
  const out: Record<string, ManifestEntry> = {};
  for (const [name, e] of Object.entries(entries)) {
    if (!within(name, remove)) out[name] = e;
  }
  return Object.assign(out, record);
}
