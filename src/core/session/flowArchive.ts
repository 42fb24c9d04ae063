import * as fs from 'fs';
import * as path from 'path';
import { packEntries, type ArchiveEntry } from '../docker/archive';
import { FlowSessionError } from '../errors';

// What a session never needs: results, caches, virtual environments and VCS data.
const SKIP_DIRS = new Set(['.promptflow', '__pycache__', '.git', '.hg', '.svn', 'node_modules', '.venv', 'venv', '.mypy_cache', '.pytest_cache', '.ruff_cache', '.ipynb_checkpoints']);
const MAX_TOTAL_BYTES = 512 * 1024 * 1024;

function isVirtualEnv(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'pyvenv.cfg'));
}

function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Collects a folder's files for the session. Symlinks are followed only while they stay inside `root`:
 * a link out of the flow folder is never copied into the container.
 */
function collect(root: string, rel: string, prefix: string, out: ArchiveEntry[], budget: { bytes: number }): void {
  const abs = path.join(root, rel);
  for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
    const childRel = rel ? path.join(rel, entry.name) : entry.name;
    const childAbs = path.join(root, childRel);
    let real: string;
    try {
      real = fs.realpathSync(childAbs);
    } catch {
      continue; // dangling link
    }
    if (!inside(fs.realpathSync(root), real)) continue;
    const stat = fs.statSync(real);
    const name = `${prefix}${childRel.split(path.sep).join('/')}`;
    if (stat.isDirectory()) {
      if (SKIP_DIRS.has(entry.name) || isVirtualEnv(real)) continue;
      out.push({ name, mode: 0o755 });
      collect(root, childRel, prefix, out, budget);
    } else if (stat.isFile()) {
      budget.bytes += stat.size;
      if (budget.bytes > MAX_TOTAL_BYTES) {
        throw new FlowSessionError('bad-input', `The flow folder is larger than ${MAX_TOTAL_BYTES / 1024 / 1024} MB.`, 'Move large data files out of the flow folder; a session copies the whole folder.');
      }
      out.push({ name, content: fs.readFileSync(real), mode: stat.mode & 0o111 ? 0o755 : 0o644 });
    }
  }
}

/** The flow folder plus its additional_includes, as prompt flow lays them out (each include by its base name). */
export async function flowArchive(flowDir: string, additionalIncludes: string[] = [], uid = 10001, gid = 10001): Promise<Buffer> {
  const entries: ArchiveEntry[] = [];
  const budget = { bytes: 0 };
  collect(flowDir, '', '', entries, budget);
  const names = new Set(entries.map((e) => e.name));
  for (const include of additionalIncludes) {
    const abs = path.resolve(flowDir, include);
    if (!fs.existsSync(abs)) continue; // reported by the static checks
    const base = path.basename(abs);
    const stat = fs.statSync(abs);
    if (stat.isDirectory()) {
      const sub: ArchiveEntry[] = [{ name: base, mode: 0o755 }];
      collect(abs, '', `${base}/`, sub, budget);
      for (const e of sub) if (!names.has(e.name)) entries.push(e);
    } else if (stat.isFile() && !names.has(base)) {
      entries.push({ name: base, content: fs.readFileSync(abs) });
    }
  }
  return packEntries(entries, uid, gid);
}

/** One file of the flow, for a copy on save. */
export async function fileArchive(flowDir: string, relPath: string, uid = 10001, gid = 10001): Promise<Buffer> {
  const abs = path.resolve(flowDir, relPath);
  if (!inside(flowDir, abs)) throw new FlowSessionError('bad-input', `${relPath} is outside the flow folder.`, 'Only files of the flow folder are copied into the session.');
  const parts = relPath.split(/[\\/]/).filter(Boolean);
  const entries: ArchiveEntry[] = [];
  for (let i = 1; i < parts.length; i++) entries.push({ name: parts.slice(0, i).join('/'), mode: 0o755 });
  entries.push({ name: parts.join('/'), content: fs.readFileSync(abs) });
  return packEntries(entries, uid, gid);
}
