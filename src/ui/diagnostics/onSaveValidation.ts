import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { errorMessage } from '../../core/errors';
import type { FlowProblem } from '../../core/flow/problem';
import type { FlowAnalysis } from '../../core/flow/staticChecks';
import type { Ctx } from '../ctx';
import type { FlowIndex } from '../flowIndex';
import { isFlowFolder } from '../../core/flow/flowKind';
import { savedFileOfFlow } from '../flowLocator';
import { sessionsAllowed } from '../workspaceTrust';
import { ProblemStore } from './problemStore';
import { ValidationScheduler, type ValidationJob } from './validationScheduler';

/** A saved-file marker that asks for a full validation (all sources, whole flow copied). */
export const FULL = '*';
const CLEARING_ACTIONS = new Set(['die', 'stop', 'kill', 'destroy', 'removed', 'stopping']);

export function toDiagnostic(p: FlowProblem): vscode.Diagnostic {
  const range = new vscode.Range(
    Math.max(0, p.line - 1),
    Math.max(0, p.column - 1),
    Math.max(0, p.endLine - 1),
    Math.max(0, p.endColumn - 1),
  );
  const d = new vscode.Diagnostic(
    range,
    p.message,
    p.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error,
  );
  d.source = 'flowsession';
  d.code = p.code;
  return d;
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * On-save validation: the static problems at once, then the session's results as they arrive, as
 * diagnostics. Coalescing and staleness live in the editor-free ValidationScheduler and ProblemStore.
 */
export class OnSaveValidation implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('flowsession');
  private readonly store = new ProblemStore();
  private readonly scheduler: ValidationScheduler;
  /** realpath of a flow folder → the path the workspace uses for it */
  private readonly displayDirs = new Map<string, string>();
  private readonly autoStarting = new Set<string>();
  /** the static checks started by the newest save of each flow, which its session validation reuses */
  private readonly latestStatic = new Map<string, { generation: number; analysis: Promise<FlowAnalysis | undefined> }>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly doneEmitter = new vscode.EventEmitter<{ flowDir: string; sessionChecked: boolean; generation: number }>();
  /** fires after each validation settles (tests and the bench wait on it) */
  readonly onDidValidate = this.doneEmitter.event;

  constructor(
    private readonly ctx: Ctx,
    private readonly index: FlowIndex,
  ) {
    this.scheduler = new ValidationScheduler((job) => this.run(job));
    this.disposables.push(
      this.collection,
      this.doneEmitter,
      vscode.workspace.onDidSaveTextDocument((d) => this.onSave(d.uri)),
      ctx.onDidChangeSession((c) => {
        if (!c.flowDir || !CLEARING_ACTIONS.has(c.action)) return;
        const dir = this.displayDirs.get(c.flowDir);
        if (dir) this.publish(dir, this.store.clearSession(dir));
      }),
      index.onDidChange(() => void this.forgetDeletedFlows()),
    );
  }

  private onSave(uri: vscode.Uri): void {
    const flowDir = this.index.flowOf(uri);
    if (!flowDir) return;
    const rel = savedFileOfFlow(uri.fsPath, flowDir);
    if (!rel) return;
    this.schedule(flowDir, rel);
  }

  /** Validates a flow now (the "Validate Flow" command); resolves when its result is shown. */
  async validateNow(flowDir: string): Promise<void> {
    this.schedule(flowDir, FULL);
    await this.scheduler.idle(flowDir);
  }

  private schedule(flowDir: string, rel: string): void {
    this.displayDirs.set(realpath(flowDir), flowDir);
    const generation = this.scheduler.saved(flowDir, rel);
    if (rel !== FULL) this.store.noteSave(flowDir, rel, generation);
    void this.runStatic(flowDir, generation);
  }

  private async runStatic(flowDir: string, generation: number): Promise<void> {
    try {
      const folder = import('../../core/validation/staticFolderChecks').then((m) => m.analyzeFlowFolder(flowDir));
      this.latestStatic.set(flowDir, { generation, analysis: folder.then((f) => f.dag) });
      this.publish(flowDir, this.store.applyStatic(flowDir, generation, (await folder).problems));
    } catch (e) {
      this.ctx.log.warn(`Static checks of ${flowDir} failed: ${errorMessage(e)}`);
    }
  }

  private async run(job: ValidationJob): Promise<void> {
    const { flowDir, generation } = job;
    let sessionChecked = false;
    try {
      const services = await this.ctx.services().catch(() => undefined);
      if (!services) return; // engine unreachable: the static problems stand, the views say why
      const full = job.changedFiles.includes(FULL);
      const trusted = sessionsAllowed();
      const latest = this.latestStatic.get(flowDir);
      if (latest && latest.generation <= generation) this.latestStatic.delete(flowDir);
      const report = await services.validator.validate(flowDir, {
        // Restricted Mode: the static checks only, even when a session runs (its checks import the flow's code)
        session: trusted ? 'if-running' : 'never',
        changedFiles: full ? undefined : job.changedFiles,
        // the checks of the save this job ends with are already running: the same answer, computed once
        analysis: latest?.generation === generation ? latest.analysis : undefined,
        connections: this.ctx.connections.shapes(),
      });
      sessionChecked = report.sessionChecked;
      if (report.sessionChecked) {
        this.publish(flowDir, this.store.applySession(flowDir, { generation, problems: report.problems, sources: report.sources }));
      } else {
        this.publish(flowDir, this.store.applyStatic(flowDir, generation, report.problems));
        if (this.ctx.settings.autoStartSession && trusted) void this.autoStart(flowDir);
      }
    } catch (e) {
      this.ctx.log.warn(`Validating ${flowDir} in its session failed: ${errorMessage(e)}`);
    } finally {
      this.doneEmitter.fire({ flowDir, sessionChecked, generation });
    }
  }

  /** flowsession.autoStartSession: a save without a running session starts one, then validates again. */
  private async autoStart(flowDir: string): Promise<void> {
    if (this.autoStarting.has(flowDir)) return;
    const services = this.ctx.loadedServices();
    const status = await services?.manager.status(flowDir).catch(() => undefined);
    if (!status || !['not-created', 'stopped'].includes(status.state)) return;
    this.autoStarting.add(flowDir);
    try {
      const ok = await vscode.commands.executeCommand<boolean>('flowsession.startSession', flowDir);
      if (ok) this.schedule(flowDir, FULL);
    } finally {
      this.autoStarting.delete(flowDir);
    }
  }

  private publish(flowDir: string, files: string[]): void {
    for (const file of files) {
      const uri = vscode.Uri.file(path.join(flowDir, ...file.split('/')));
      const problems = this.store.problemsOf(flowDir, file);
      this.collection.set(uri, problems.map(toDiagnostic));
    }
  }

  private async forgetDeletedFlows(): Promise<void> {
    const flows = new Set(await this.index.list());
    for (const dir of new Set(this.displayDirs.values())) {
      if (flows.has(dir) || isFlowFolder(dir)) continue;
      const files = this.store.clearFlow(dir);
      for (const f of files) this.collection.delete(vscode.Uri.file(path.join(dir, ...f.split('/'))));
    }
  }

  dispose(): void {
    this.scheduler.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
