import * as path from 'path';
import { promises as fsp } from 'fs';
import { ParsedFlow, rangeOfPath } from '../flow/dagDocument';
import { fsProbe } from '../flow/sources';
import { analyzeFlexText } from '../flow/flexDocument';
import { definitionFileIn } from '../flow/flowKind';
import { staticPromptyProblems } from './staticFolderChecks';
import { readPromptyDocs } from '../runs/flowPayload';
import { flowToJson } from '../flow/flowInfo';
import type { FlowProblem } from '../flow/problem';
import { analyzeFlowDir, type FlowAnalysis } from '../flow/staticChecks';
import { resolveFlowDir } from '../flow/environment';
import type { RuntimeClient } from '../runtime/client';
import { Methods, type ConnectionShape, type FlexEntryMeta, type FlowToolsJson, type RuntimeProblem } from '../runtime/protocol';
import type { SessionManager } from '../session/sessionManager';
import type { SessionProgress } from '../session/state';
import { recordToolsJson } from './toolsJson';

export type SessionUse = 'never' | 'if-running' | 'start';

export interface ValidationReport {
  flowDir: string;
  /** static and session problems, sorted by file and position */
  problems: FlowProblem[];
  /** false when only the static checks ran (no running session, or not asked for) */
  sessionChecked: boolean;
  /** the sources the session checked; undefined means all of them */
  sources?: string[];
  tools?: FlowToolsJson;
  /** a flex flow's entry as the session read it (its signature's inputs) */
  entry?: FlexEntryMeta;
}

export interface ValidateOptions {
  session: SessionUse;
  /** flow-relative paths saved since the session last saw them: copied in, and the session checks only these sources */
  changedFiles?: string[];
  onProgress?: SessionProgress;
  /** write .promptflow/flow.tools.json as prompt flow's validate does (default true) */
  writeToolsJson?: boolean;
  /** the static checks of the flow as it is now, when the caller already runs them (on save: shown at once) */
  analysis?: Promise<FlowAnalysis | undefined>;
  /** the connections runs get (no values): nodes naming a missing one, or one of a type their tool does not take, are errors */
  connections?: Record<string, ConnectionShape>;
}

const SOURCE_EXTENSIONS = new Set(['.py', '.jinja2', '.j2', '.jinja']);

/** Validation of a flow: the static checks at once, then the session's checks when a session is there. */
export class FlowValidator {
  constructor(private readonly manager: SessionManager) {}

  /**
   * Validates the flows of a folder (given the folder, a flow file or a .prompty in it): its DAG or flex definition
   * and its .prompty files, statically and then in its session.
   */
  async validate(flowPath: string, options: ValidateOptions): Promise<ValidationReport> {
    const dir = resolveFlowDir(flowPath);
    const def = definitionFileIn(dir);
    if (def?.kind !== 'dag') return this.validateFlexOrPrompty(dir, def?.file, options);
    const warm = options.session === 'never' ? undefined : this.manager.liveRuntime(dir);
    // a warm session's copy is brought current while the static checks run: the two do not depend on each other
    const earlySync = warm ? this.sync(dir, options.changedFiles) : undefined;
    const analysis = await (options.analysis ?? Promise.resolve(undefined))
      .then((given) => given ?? analyzeFlowDir(dir))
      .catch(async (e: unknown) => {
        await earlySync?.catch(() => undefined);
        throw e;
      });
    const promptyProblems = await staticPromptyProblems(dir);
    const report: ValidationReport = { flowDir: dir, problems: [...analysis.problems, ...promptyProblems], sessionChecked: false };
    const flow = flowToJson(analysis.parsed);
    if (options.session === 'never' || flow === undefined || analysis.parsed.problems.length > 0) {
      await earlySync?.catch(() => undefined);
      return report;
    }
    const runtime = warm ?? (await this.readyRuntime(dir, options));
    if (!runtime) return report;
    await (earlySync ?? this.sync(dir, options.changedFiles));
    const sources = this.sourcesToCheck(options.changedFiles);
    const prompty = await readPromptyDocs(dir);
    const result = await runtime.request(
      Methods.validate,
      {
        flow: flow as Record<string, unknown>,
        ...(sources ? { sources } : {}),
        ...(options.connections ? { connections: options.connections } : {}),
        ...(Object.keys(prompty).length ? { prompty } : {}),
      },
      { timeoutMs: 120_000 },
    );
    report.sessionChecked = true;
    report.sources = sources;
    report.tools = result.tools;
    report.problems = mergeProblems(
      report.problems,
      result.errors.map((p) => placeProblem(p, analysis.parsed)),
    );
    if (options.writeToolsJson !== false) await recordToolsJson(dir, flow as Record<string, unknown>, result.tools, sources);
    return report;
  }

  /** A flex flow (its flow.flex.yaml, entry and signature) and the folder's .prompty files (front matter and templates). */
  private async validateFlexOrPrompty(dir: string, flexFile: string | undefined, options: ValidateOptions): Promise<ValidationReport> {
    const warm = options.session === 'never' ? undefined : this.manager.liveRuntime(dir);
    const earlySync = warm ? this.sync(dir, options.changedFiles) : undefined;
    const flex = flexFile ? analyzeFlexText(await fsp.readFile(path.join(dir, flexFile)), flexFile, fsProbe(dir)) : undefined;
    const staticProblems = [...(flex?.problems ?? []), ...(await staticPromptyProblems(dir))];
    const report: ValidationReport = { flowDir: dir, problems: mergeProblems(staticProblems, []), sessionChecked: false };
    const unreadable = flex !== undefined && flex.value === undefined;
    if (options.session === 'never' || unreadable) {
      await earlySync?.catch(() => undefined);
      return report;
    }
    const runtime = warm ?? (await this.readyRuntime(dir, options));
    if (!runtime) return report;
    await (earlySync ?? this.sync(dir, options.changedFiles));
    const prompty = await readPromptyDocs(dir);
    const result = await runtime.request(
      Methods.validate,
      flex?.entryModule
        ? { flow: flex.value ?? {}, kind: 'flex', flowFile: flexFile, prompty }
        : { flow: {}, kind: 'prompty', flowFile: '', prompty },
      { timeoutMs: 120_000 },
    );
    report.sessionChecked = true;
    if (result.entry) report.entry = result.entry;
    report.problems = mergeProblems(
      staticProblems,
      result.errors.map((p) => placeProblem(p, flex?.parsed)),
    );
    return report;
  }

  /** The runtime of the flow's session once it is ready (started first when asked to), or none. */
  private async readyRuntime(dir: string, options: ValidateOptions): Promise<RuntimeClient | undefined> {
    const status = options.session === 'start' ? await this.manager.up(dir, options.onProgress) : await this.manager.status(dir);
    return status.state === 'ready' || status.state === 'busy' ? this.manager.runtime(dir) : undefined;
  }

  /** The saved files into the session, or (none named) whatever changed since the session last saw the flow. */
  private async sync(dir: string, changedFiles: string[] | undefined): Promise<void> {
    if (!changedFiles?.length) return this.manager.syncFlow(dir);
    for (const f of changedFiles) await this.manager.syncFile(dir, f);
  }

  /** Only a saved tool source narrows the check; a saved flow.dag.yaml (or anything else) checks every source. */
  private sourcesToCheck(changed: string[] | undefined): string[] | undefined {
    if (!changed || changed.length === 0) return undefined;
    if (!changed.every((f) => SOURCE_EXTENSIONS.has(path.extname(f).toLowerCase()))) return undefined;
    return changed.map((f) => f.split(path.sep).join('/'));
  }
}

/** A runtime problem in the flow definition comes as a YAML path; it is placed on the range of that node. */
export function placeProblem(p: RuntimeProblem, parsed: ParsedFlow | undefined): FlowProblem {
  if (p.yamlPath && p.line === undefined) {
    const r = parsed ? rangeOfPath(parsed, p.yamlPath) : { line: 1, column: 1, endLine: 1, endColumn: 2 };
    return { code: p.code, message: p.message, severity: p.severity, file: p.file || parsed?.file || 'flow.dag.yaml', ...r };
  }
  const line = p.line ?? 1;
  const column = p.column ?? 1;
  return {
    code: p.code,
    message: p.message,
    severity: p.severity,
    file: p.file,
    line,
    column,
    endLine: p.endLine ?? line,
    endColumn: p.endColumn ?? column + 1,
  };
}

/** Static and session problems without duplicates (both may report a missing source), in a stable order. */
export function mergeProblems(a: FlowProblem[], b: FlowProblem[]): FlowProblem[] {
  const seen = new Set<string>();
  const out: FlowProblem[] = [];
  for (const p of [...a, ...b]) {
    const key = `${p.code}|${p.file}|${p.line}|${p.column}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out.sort((x, y) => x.file.localeCompare(y.file) || x.line - y.line || x.column - y.column);
}
