import * as fs from 'fs';
import * as path from 'path';
import { packEntries, type ArchiveEntry } from '../docker/archive';
import { FlowSessionError } from '../errors';
import { includeScopeFor, judgeInclude, judgeRealPath, type IncludeScope } from '../flow/includeScope';

/** Folders that are not a flow's sources: results, caches, virtual environments and VCS data (never copied, never searched). */
export const NOT_FLOW_SOURCES = new Set([
  '.promptflow',
  '__pycache__',
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  '.venv',
  'venv',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  '.ipynb_checkpoints',
]);
const MAX_TOTAL_BYTES = 512 * 1024 * 1024;

/** A file or folder of the flow as it will appear under the session's flow folder. */
export interface FlowFile {
  name: string;
  abs: string;
  dir: boolean;
  size: number;
  mtimeMs: number;
  executable: boolean;
}

function isVirtualEnv(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'pyvenv.cfg'));
}

function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Lists a folder's files for the session. Symlinks are followed only while they stay inside the flow's include
 * scope (a link out of it is never copied into the container), and never back into a folder being listed.
 */
function collect(
  root: string,
  rel: string,
  prefix: string,
  out: FlowFile[],
  budget: { bytes: number },
  scope: IncludeScope,
  open: string[],
): void {
  for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const childRel = rel ? path.join(rel, entry.name) : entry.name;
    let real: string;
    try {
      real = fs.realpathSync(path.join(root, childRel));
    } catch {
      continue; // dangling link
    }
    if (!judgeRealPath(scope, real).ok) continue;
    const stat = fs.statSync(real);
    const name = `${prefix}${childRel.split(path.sep).join('/')}`;
    if (stat.isDirectory()) {
      if (NOT_FLOW_SOURCES.has(entry.name) || isVirtualEnv(real) || open.includes(real)) continue;
      out.push({ name, abs: real, dir: true, size: 0, mtimeMs: stat.mtimeMs, executable: true });
      collect(root, childRel, prefix, out, budget, scope, [...open, real]);
    } else if (stat.isFile()) {
      budget.bytes += stat.size;
      if (budget.bytes > MAX_TOTAL_BYTES) {
        throw new FlowSessionError(
          'bad-input',
          `The flow folder is larger than ${MAX_TOTAL_BYTES / 1024 / 1024} MB.`,
          'Move large data files out of the flow folder; a session copies the whole folder.',
        );
      }
      out.push({ name, abs: real, dir: false, size: stat.size, mtimeMs: stat.mtimeMs, executable: (stat.mode & 0o111) !== 0 });
    }
  }
}

/**
 * The flow folder plus its additional_includes, as prompt flow lays them out (each include by its base name).
 * An include outside the scope is left out (the static checks report it on its line); one naming the flow's
 * own parent or the file system root is an error.
 */
export function listFlowFiles(flowDir: string, additionalIncludes: string[] = [], scope = includeScopeFor(flowDir)): FlowFile[] {
  const files: FlowFile[] = [];
  const budget = { bytes: 0 };
  collect(flowDir, '', '', files, budget, scope, [scope.flowDir]);
  const names = new Set(files.map((e) => e.name));
  for (const include of additionalIncludes) {
    const verdict = judgeInclude(scope, include);
    if (!verdict) continue; // missing: reported by the static checks
    if (!verdict.ok && verdict.why === 'contains-flow') {
      throw new FlowSessionError(
        'bad-input',
        `The additional_includes entry '${include}' is the file system root or a folder that contains the flow itself.`,
        'Include the folder or file the flow needs, not a parent of the flow folder.',
      );
    }
    if (!verdict.ok) continue;
    const abs = verdict.real;
    const base = path.basename(path.resolve(flowDir, include));
    const stat = fs.statSync(abs);
    const sub: FlowFile[] = [];
    if (stat.isDirectory()) {
      sub.push({ name: base, abs, dir: true, size: 0, mtimeMs: stat.mtimeMs, executable: true });
      collect(abs, '', `${base}/`, sub, budget, scope, [scope.flowDir, abs]);
    } else if (stat.isFile()) {
      sub.push({ name: base, abs, dir: false, size: stat.size, mtimeMs: stat.mtimeMs, executable: false });
    }
    for (const e of sub) if (!names.has(e.name)) files.push(e);
  }
  return files;
}

/** A tar of the given flow files, owned by the session user. */
export function packFlowFiles(files: FlowFile[], uid = 10001, gid = 10001): Promise<Buffer> {
  const entries: ArchiveEntry[] = files.map((f) =>
    f.dir ? { name: f.name, mode: 0o755 } : { name: f.name, content: fs.readFileSync(f.abs), mode: f.executable ? 0o755 : 0o644 },
  );
  return packEntries(entries, uid, gid);
}

/** One file of the flow, for a copy on save. */
export async function fileArchive(flowDir: string, relPath: string, uid = 10001, gid = 10001): Promise<Buffer> {
  const abs = path.resolve(flowDir, relPath);
  if (!inside(flowDir, abs))
    throw new FlowSessionError(
      'bad-input',
      `${relPath} is outside the flow folder.`,
      'Only files of the flow folder are copied into the session.',
    );
  const parts = relPath.split(/[\\/]/).filter(Boolean);
  const entries: ArchiveEntry[] = [];
  for (let i = 1; i < parts.length; i++) entries.push({ name: parts.slice(0, i).join('/'), mode: 0o755 });
  entries.push({ name: parts.join('/'), content: fs.readFileSync(abs) });
  return packEntries(entries, uid, gid);
}

/** Remembers what a session already has, so a re-sync copies only what changed since. */
export class SyncedFiles {
  private readonly seen = new Map<string, string>();

  static stamp(f: FlowFile): string {
    return f.dir ? 'dir' : `${f.size}:${f.mtimeMs}`;
  }

  changed(files: FlowFile[]): FlowFile[] {
    const out = files.filter((f) => this.seen.get(f.name) !== SyncedFiles.stamp(f));
    // a changed file needs its folders in the archive too, or the copy would create them root-owned
    const dirs = new Set(
      out
        .filter((f) => !f.dir)
        .flatMap((f) =>
          f.name
            .split('/')
            .slice(0, -1)
            .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
        ),
    );
    return files.filter((f) => out.includes(f) || (f.dir && dirs.has(f.name)));
  }

  record(files: FlowFile[]): void {
    for (const f of files) this.seen.set(f.name, SyncedFiles.stamp(f));
  }

  clear(): void {
    this.seen.clear();
  }
}

/** The whole flow folder as a tar, for a first copy or an image build context. */
export function flowArchive(flowDir: string, additionalIncludes: string[] = [], uid = 10001, gid = 10001): Promise<Buffer> {
  return packFlowFiles(listFlowFiles(flowDir, additionalIncludes), uid, gid);
}
