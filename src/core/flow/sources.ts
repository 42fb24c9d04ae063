import * as fs from 'fs';
import * as path from 'path';
import { FlowModel } from './flowModel';
import { msg } from './messages';
import { ProblemSink } from './problemSink';
import { SourceRef } from './schema';
import { NOT_FLOW_SOURCES } from './notFlowSources';
import { includeScopeFor, judgeInclude, judgeRealPath, within, type IncludeScope, type IncludeVerdict } from './includeScope';

export type PathKind = 'file' | 'dir' | 'missing';

export interface PathInfo {
  kind: PathKind;
  /** the path lies in the flow folder and, symlinks resolved, within the include scope: the session has it */
  inside: boolean;
  /** the path exists but the include scope keeps it out of the session */
  refused?: Exclude<IncludeVerdict, { ok: true }>;
}

/** Looks a path up relative to the flow folder (it may be absolute or climb out with `..`); `asInclude` judges it as an include. */
export type PathProbe = (p: string, asInclude?: boolean) => PathInfo;

export interface IncludeRef {
  entry: string;
  index: number;
  /** prompt flow copies the include into the flow folder under this name */
  baseName: string;
  info: PathInfo;
}

/** Forward slashes and no leading `./`, the way the YAML is usually written. */
export function normalizeRel(p: string): string {
  let s = p.replace(/\\/g, '/');
  while (s.startsWith('./')) s = s.slice(2);
  return s;
}

function baseName(entry: string): string {
  const parts = normalizeRel(entry)
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  return parts[parts.length - 1] ?? '';
}

/** `additional_includes` entries that are strings, each looked up; reports missing ones and bad shapes. */
export function checkIncludes(model: FlowModel, probe: PathProbe, sink?: ProblemSink): IncludeRef[] {
  const raw = model.root.additional_includes;
  if (raw == null) return [];
  if (!Array.isArray(raw)) {
    sink?.error('FlowDefinitionError', msg.notList("'additional_includes'"), ['additional_includes']);
    return [];
  }
  const out: IncludeRef[] = [];
  raw.forEach((entry, index) => {
    const at = ['additional_includes', index];
    if (typeof entry !== 'string' || entry === '') {
      sink?.error('FlowDefinitionError', msg.badInclude(JSON.stringify(entry) ?? String(entry)), at);
      return;
    }
    const info = safeProbe(probe, entry, true);
    if (info.kind === 'missing') sink?.error('FlowDefinitionError', msg.missingInclude(entry), at);
    else if (info.refused) sink?.error('InvalidAdditionalInclude', msg.refusedInclude(entry, info.refused), at);
    out.push({ entry, index, baseName: baseName(entry), info });
  });
  return out;
}

export interface ResolvedSource {
  /** where the file is, relative to the flow folder (through an include when it comes from one) */
  location: string;
  include?: IncludeRef;
  info: PathInfo;
}

/**
 * Where a node's source file is once prompt flow has copied the additional includes in:
 * the flow folder first, then an include whose base name is the path's first segment.
 */
export function resolveSource(sourcePath: string, includes: readonly IncludeRef[], probe: PathProbe): ResolvedSource {
  const direct = safeProbe(probe, sourcePath);
  if (direct.kind === 'file') return { location: sourcePath, info: direct };
  const rel = normalizeRel(sourcePath);
  for (const inc of includes) {
    if (inc.info.refused) continue; // never in the session
    if (inc.info.kind === 'file' && rel === inc.baseName) return { location: inc.entry, include: inc, info: inc.info };
    if (inc.info.kind === 'dir' && rel.startsWith(`${inc.baseName}/`)) {
      const location = `${normalizeRel(inc.entry).replace(/\/+$/, '')}/${rel.slice(inc.baseName.length + 1)}`;
      const info = safeProbe(probe, location);
      if (info.kind === 'file') return { location, include: inc, info };
    }
  }
  return { location: sourcePath, info: direct };
}

/** InvalidSource for node sources that are missing, not files, or (outside an include) leave the flow folder. */
export function checkSources(sources: readonly SourceRef[], includes: readonly IncludeRef[], probe: PathProbe, sink: ProblemSink): void {
  for (const src of sources) {
    const r = resolveSource(src.path, includes, probe);
    if (r.info.kind !== 'file') sink.error('InvalidSource', msg.invalidSource(src.path, src.node), src.at);
    else if (!r.include && r.info.refused) sink.error('InvalidSource', msg.refusedSourceLink(src.path, src.node, r.info.refused), src.at);
    else if (!r.include && !r.info.inside) sink.error('InvalidSource', msg.sourceOutsideFlow(src.path, src.node), src.at);
  }
}

function safeProbe(probe: PathProbe, p: string, asInclude = false): PathInfo {
  try {
    return probe(p, asInclude);
  } catch {
    return { kind: 'missing', inside: false };
  }
}

/**
 * A probe over the real file system: symlinks are resolved, and a path counts as inside only when it lies in the
 * flow folder and its target is within the include scope (the same policy that decides what the session gets).
 */
export function fsProbe(flowDir: string, scope: IncludeScope = includeScopeFor(flowDir)): PathProbe {
  const root = path.resolve(flowDir);
  return (p, asInclude) => {
    if (p.includes('\0')) return { kind: 'missing', inside: false };
    const abs = path.resolve(root, p);
    const lexicallyInside = within(root, abs) || within(scope.flowDir, abs);
    let real: string;
    let st: fs.Stats;
    try {
      real = fs.realpathSync(abs);
      st = fs.statSync(real);
    } catch {
      return { kind: 'missing', inside: lexicallyInside };
    }
    const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'missing';
    const verdict = asInclude ? judgeInclude(scope, p) : judgeRealPath(scope, real);
    if (verdict && !verdict.ok) return { kind, inside: false, refused: verdict };
    return { kind, inside: lexicallyInside };
  };
}

/**
 * A probe over a list of relative paths, for tests and for callers holding an in-memory tree.
 * Folders are implied by the files under them; anything that climbs out lexically is outside.
 */
export function listProbe(files: Iterable<string>, outsideFiles: Iterable<string> = []): PathProbe {
  const fileSet = new Set<string>();
  const dirs = new Set<string>();
  const outside = new Set<string>();
  const add = (f: string, set: Set<string>) => {
    const n = path.posix.normalize(normalizeRel(f));
    set.add(n);
    const parts = n.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  };
  for (const f of files) add(f, fileSet);
  for (const f of outsideFiles) add(f, outside);
  return (p) => {
    const n = path.posix.normalize(normalizeRel(p));
    const lexicallyInside = !n.startsWith('../') && n !== '..' && !path.posix.isAbsolute(n);
    if (fileSet.has(n) || outside.has(n)) return { kind: 'file', inside: lexicallyInside && !outside.has(n) };
    if (dirs.has(n)) return { kind: 'dir', inside: lexicallyInside };
    return { kind: 'missing', inside: lexicallyInside };
  };
}

export interface RefusedLink {
  /** the link's name in the flow folder */
  name: string;
  refusal: Exclude<IncludeVerdict, { ok: true }>;
}

/**
 * The symlinks directly in the flow folder that the include scope keeps out of the session (the copy leaves them
 * out). Only the top level is looked at: that is where flows share files by links, and a save must stay cheap.
 */
export async function refusedLinks(flowDir: string, scope: IncludeScope = includeScopeFor(flowDir)): Promise<RefusedLink[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(flowDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: RefusedLink[] = [];
  for (const e of entries) {
    // results, caches and virtual environments are never copied: a link among them is no concern of the session
    if (!e.isSymbolicLink() || NOT_FLOW_SOURCES.has(e.name)) continue;
    let real: string;
    try {
      real = await fs.promises.realpath(path.join(flowDir, e.name));
    } catch {
      continue; // dangling: nothing to copy, nothing to leak
    }
    const verdict = judgeRealPath(scope, real);
    if (!verdict.ok) out.push({ name: e.name, refusal: verdict });
  }
  return out;
}
