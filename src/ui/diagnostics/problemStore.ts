import type { FlowProblem } from '../../core/flow/problem';

/**
 * The problems of each flow, kept in two layers per file: static (flow.dag.yaml checks, recomputed on every
 * save) and session (the runtime's checks). Editor-free: the adapter turns `problemsOf` into diagnostics.
 *
 * Staleness: every save has a generation. A result started at generation g is applied to a file only if
 * the file was not saved after g (`savedAt[file] <= g`); the newer save's own validation will cover it.
 */
interface FileEntry {
  static: FlowProblem[];
  session: FlowProblem[];
  /** generation of the newest save of this file */
  savedAt: number;
  /** generation of the result the static/session layers come from */
  staticFrom: number;
  sessionFrom: number;
}

export const FLOW_FILE = 'flow.dag.yaml';

export interface SessionResult {
  /** started at this generation */
  generation: number;
  /** static + session problems as the validator reports them */
  problems: FlowProblem[];
  /** the sources the session re-checked; undefined: all of them */
  sources?: string[];
}

const key = (p: FlowProblem) => `${p.code}|${p.file}|${p.line}|${p.column}|${p.message}`;

export class ProblemStore {
  private readonly flows = new Map<string, Map<string, FileEntry>>();

  private files(flowDir: string): Map<string, FileEntry> {
    let m = this.flows.get(flowDir);
    if (!m) {
      m = new Map();
      this.flows.set(flowDir, m);
    }
    return m;
  }

  private entry(flowDir: string, file: string): FileEntry {
    const files = this.files(flowDir);
    let e = files.get(file);
    if (!e) {
      e = { static: [], session: [], savedAt: 0, staticFrom: 0, sessionFrom: 0 };
      files.set(file, e);
    }
    return e;
  }

  /** Notes that a file was saved at a generation. */
  noteSave(flowDir: string, file: string, generation: number): void {
    const e = this.entry(flowDir, file);
    e.savedAt = Math.max(e.savedAt, generation);
  }

  private current(e: FileEntry | undefined, generation: number): boolean {
    return !e || e.savedAt <= generation;
  }

  /**
   * The static problems of the flow computed at `generation` (they cover every file they could land in:
   * all static problems are replaced). Returns the files whose problems changed.
   */
  applyStatic(flowDir: string, generation: number, problems: FlowProblem[]): string[] {
    const files = this.files(flowDir);
    const changed = new Set<string>();
    const byFile = group(problems);
    for (const file of new Set([...files.keys(), ...byFile.keys()])) {
      const e = this.entry(flowDir, file);
      if (generation < e.staticFrom || !this.current(e, generation)) continue;
      const next = byFile.get(file) ?? [];
      e.staticFrom = generation;
      if (!sameProblems(e.static, next)) changed.add(file);
      e.static = next;
    }
    return [...changed];
  }

  /**
   * A session result. Files it re-checked get its problems (fixed ones disappear); files it did not check
   * keep theirs. flow.dag.yaml is fully re-checked only by a full result; a partial one adds its findings.
   */
  applySession(flowDir: string, result: SessionResult): string[] {
    const files = this.files(flowDir);
    const changed = new Set<string>();
    const staticKeys = new Set<string>();
    for (const e of files.values()) for (const p of e.static) staticKeys.add(key(p));
    const sessionOnly = result.problems.filter((p) => !staticKeys.has(key(p)));
    const byFile = group(sessionOnly);
    const full = result.sources === undefined;
    const covered = new Set(full ? [...files.keys(), ...byFile.keys()] : [...result.sources!, ...byFile.keys()]);
    for (const file of covered) {
      const e = this.entry(flowDir, file);
      if (!this.current(e, result.generation) || result.generation < e.sessionFrom) continue;
      let next = byFile.get(file) ?? [];
      if (!full && file === FLOW_FILE) next = dedupe([...e.session, ...next]);
      e.sessionFrom = result.generation;
      if (!sameProblems(e.session, next)) changed.add(file);
      e.session = next;
    }
    return [...changed];
  }

  /** The session stopped or was deleted: its problems no longer stand. */
  clearSession(flowDir: string): string[] {
    const changed: string[] = [];
    for (const [file, e] of this.files(flowDir)) {
      if (e.session.length > 0) changed.push(file);
      e.session = [];
    }
    return changed;
  }

  /** Forget a flow (its folder was deleted). */
  clearFlow(flowDir: string): string[] {
    const files = [...this.files(flowDir).keys()];
    this.flows.delete(flowDir);
    return files;
  }

  /** What the editor shows for a file: static and session problems, without duplicates. */
  problemsOf(flowDir: string, file: string): FlowProblem[] {
    const e = this.flows.get(flowDir)?.get(file);
    if (!e) return [];
    return dedupe([...e.static, ...e.session]);
  }

  filesOf(flowDir: string): string[] {
    return [...(this.flows.get(flowDir)?.keys() ?? [])];
  }
}

function group(problems: FlowProblem[]): Map<string, FlowProblem[]> {
  const m = new Map<string, FlowProblem[]>();
  for (const p of problems) {
    const list = m.get(p.file) ?? [];
    list.push(p);
    m.set(p.file, list);
  }
  return m;
}

function dedupe(problems: FlowProblem[]): FlowProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = key(p);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function sameProblems(a: FlowProblem[], b: FlowProblem[]): boolean {
  if (a.length !== b.length) return false;
  const ka = a.map(key).sort();
  const kb = b.map(key).sort();
  return ka.every((k, i) => k === kb[i]);
}
