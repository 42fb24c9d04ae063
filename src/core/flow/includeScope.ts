import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * Where a flow's `additional_includes` and symlinks may lead: the one policy behind the static checks and the
 * copy into the session. A session runs flow code with network access, so whatever this lets through can leave
 * the machine; everything else stays on the host.
 */
export interface IncludeScope {
  /** the flow folder, symlinks resolved */
  flowDir: string;
  /** real paths the flow may reach: its own folder, the folder that holds it, the roots the user added */
  roots: IncludeRoot[];
  /** real paths never reached through a root that merely contains them: home dot folders, /etc, engine sockets */
  protectedPaths: string[];
}

export interface IncludeRoot {
  path: string;
  /** the protected paths strictly inside this root: fenced off from it */
  fenced: string[];
}

/** How the process decides the roots; the extension and the CLI each configure it once at start. */
export interface IncludeRootsConfig {
  /** the folder that holds the flow (a workspace folder); undefined: its git repository, else the flow folder */
  containerOf?: (flowDir: string) => string | undefined;
  /** extra roots the user trusts (flowsession.allowedIncludeRoots, FLOWSESSION_ALLOWED_INCLUDE_ROOTS), `~` allowed */
  extraRoots?: string[];
  /** the home folder whose dot folders are protected (tests point it at a temp folder) */
  home?: string;
}

let config: IncludeRootsConfig = {};

/** Sets the process's include roots (replacing the previous configuration). */
export function configureIncludeRoots(c: IncludeRootsConfig): void {
  config = { ...c, extraRoots: [...(c.extraRoots ?? [])] };
}

/** The configured include roots, for a caller that adds to them. */
export function includeRootsConfig(): IncludeRootsConfig {
  return config;
}

/** `~` and `~/x` against the home folder; anything else resolved as given. */
export function expandHome(p: string, home = os.homedir()): string {
  if (p === '~') return home;
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(home, p.slice(2));
  return path.resolve(p);
}

/** A list of roots from an environment variable: path-delimiter separated, blanks dropped. */
export function rootsFromList(value: string | undefined): string[] {
  return (value ?? '')
    .split(path.delimiter)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The git repository (a folder with `.git`, a folder or a worktree's file) that holds `dir`, if any. */
export function gitRootOf(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

/**
 * The CLI's stand-in for a workspace folder: the flow's git repository, else the current folder when it holds the
 * flow (prompt flow's examples share files between sibling flows by links). Never the file system root or the
 * home folder itself: those would open everything.
 */
export function cliContainerOf(cwd: string, home = os.homedir()): (flowDir: string) => string | undefined {
  return (flowDir) => {
    const git = gitRootOf(flowDir);
    if (git) return git;
    const here = real(cwd);
    if (path.parse(here).root === here || here === real(home) || here === flowDir) return undefined;
    return within(here, flowDir) ? here : undefined;
  };
}

function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

const SYSTEM_PATHS =
  process.platform === 'win32' ? [] : ['/etc', '/proc', '/sys', '/dev', '/run', '/var/run', '/private/etc', '/private/var/run'];

/** The protected paths as last computed, with the home folder's change time then (a new entry changes it). */
let protectedCache: { home: string; changed: number; paths: string[] } | undefined;

/** Every dot entry of the home folder (.ssh, .aws, .docker, .bashrc, .netrc, …) and the system's secrets and sockets. */
export function protectedPathsFor(home: string): string[] {
  // every save asks for the scope: the listing is read again only when the home folder's entries changed
  const changed = fs.statSync(home, { throwIfNoEntry: false })?.mtimeMs ?? -1;
  if (protectedCache?.home === home && protectedCache.changed === changed) return protectedCache.paths;
  const paths = listProtectedPaths(home);
  protectedCache = { home, changed, paths };
  return paths;
}

function listProtectedPaths(home: string): string[] {
  let dotEntries: string[] = [];
  try {
    dotEntries = fs
      .readdirSync(home)
      .filter((n) => n.startsWith('.'))
      .map((n) => path.join(home, n));
  } catch {
    // no home folder: only the system paths
  }
  const out = new Set<string>();
  for (const p of [...dotEntries, ...SYSTEM_PATHS]) {
    out.add(path.resolve(p));
    out.add(real(p));
  }
  return [...out];
}

/** The scope of one flow under the process's configuration (or `c`). */
export function includeScopeFor(flowDir: string, c: IncludeRootsConfig = config): IncludeScope {
  const home = c.home ?? os.homedir();
  const flow = real(flowDir);
  const container = c.containerOf?.(flow) ?? gitRootOf(flow) ?? flow;
  const protectedPaths = protectedPathsFor(home);
  const roots = [...new Set([flow, container, ...(c.extraRoots ?? []).map((r) => expandHome(r, home))].map(real))];
  return {
    flowDir: flow,
    roots: roots.map((root) => ({ path: root, fenced: protectedPaths.filter((p) => p !== root && within(root, p)) })),
    protectedPaths,
  };
}

/** `p` is `root` or lies under it (both absolute, resolved). */
export function within(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export type IncludeVerdict =
  | { ok: true; real: string }
  /** outside every root; protected: a home dot folder, /etc or a socket no root names; contains-flow: the flow's own parent */
  | { ok: false; real: string; why: 'outside' | 'protected' | 'contains-flow' };

/**
 * Whether a real (symlinks resolved) path may reach the session: it lies in a root, and no protected path lies
 * between that root and it. A root that is itself protected, or lies inside a protected path, opens only itself,
 * so listing `~` or `/` never opens `~/.ssh`, while listing `~/.config/flows` opens exactly that folder.
 */
export function judgeRealPath(scope: IncludeScope, realPath: string): IncludeVerdict {
  const granted = scope.roots.some((root) => within(root.path, realPath) && !root.fenced.some((p) => within(p, realPath)));
  if (granted) return { ok: true, real: realPath };
  const isProtected = scope.protectedPaths.some((p) => within(p, realPath));
  return { ok: false, real: realPath, why: isProtected ? 'protected' : 'outside' };
}

/**
 * Judges an `additional_includes` entry (relative to the flow folder, or absolute, or `~`-led as written).
 * Undefined when it does not exist (the static checks report that on their own).
 */
export function judgeInclude(scope: IncludeScope, entry: string): IncludeVerdict | undefined {
  const abs = path.resolve(scope.flowDir, entry);
  let realPath: string;
  try {
    realPath = fs.realpathSync(abs);
  } catch {
    return undefined;
  }
  if (path.parse(realPath).root === realPath || within(realPath, scope.flowDir)) return { ok: false, real: realPath, why: 'contains-flow' };
  return judgeRealPath(scope, realPath);
}
