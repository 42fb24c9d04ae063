import * as vscode from 'vscode';
import type { ProgressReport } from './core/docker/progress';
import { ActiveFlow } from './ui/activeFlow';
import { registerCommands } from './ui/commands/commandTable';
import { Ctx } from './ui/ctx';
import { registerFlowDebugging } from './ui/debug/flowDebugging';
import { OnSaveValidation } from './ui/diagnostics/onSaveValidation';
import { registerFlowCodeLens } from './ui/flowCodeLens';
import { FlowIndex } from './ui/flowIndex';
import type { PanelServices } from './ui/panel/panelServices';
import { panelServices, registerPanelSerializer } from './ui/panelBridge';
import { CustomImagesTree } from './ui/tree/customImagesTree';
import { SessionsTree } from './ui/tree/sessionsTree';
import { ViewRefresh } from './ui/viewRefresh';

/** What tests get from `activate` (extension-host suites use it to wait for validations and inspect state). */
export interface FlowSessionApi {
  ctx: Ctx;
  validation: OnSaveValidation;
  sessions: SessionsTree;
  index: FlowIndex;
  activationMs: number;
}

/**
 * The composition root: builds the context object, the views and the listeners, and puts every
 * disposable into the extension context. No engine call happens here: the engine is first used when a
 * view becomes visible, a command runs or a flow file is saved.
 */
export function activate(context: vscode.ExtensionContext): FlowSessionApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('Flow Session', { log: true });
  const ctx = new Ctx(context, log);
  const index = new FlowIndex();
  const progress = new vscode.EventEmitter<{ flowDir: string; report: ProgressReport }>();
  const sessions = new SessionsTree(ctx, index);
  const customImages = new CustomImagesTree(ctx);
  const validation = new OnSaveValidation(ctx, index);
  const active = new ActiveFlow(ctx, index);
  const views = new ViewRefresh(ctx, index, { sessions, customImages, statusBar: active });
  let panel: PanelServices | undefined;
  const panelDeps = () => (panel ??= panelServices(ctx, progress.event));

  const deps = { ctx, index, validation, views, panel: panelDeps, progress };

  const sessionsView = vscode.window.createTreeView('flowsession.sessions', { treeDataProvider: sessions, showCollapseAll: true });
  sessions.attach(sessionsView);
  const imagesView = vscode.window.createTreeView('flowsession.customImages', { treeDataProvider: customImages });

  context.subscriptions.push(
    log,
    ctx,
    index,
    progress,
    sessions,
    customImages,
    validation,
    active,
    views,
    sessionsView,
    imagesView,
    registerFlowCodeLens(),
    registerPanelSerializer(panelDeps()),
    ...registerCommands(deps),
    ...registerFlowDebugging(deps),
  );
  void vscode.commands.executeCommand('setContext', 'flowsession.engineState', 'unknown');
  void index.list(); // the workspace's flows (a file search, no engine)
  const activationMs = performance.now() - started;
  log.info(`Flow Session activated in ${activationMs.toFixed(1)} ms`);
  return { ctx, validation, sessions, index, activationMs };
}

export function deactivate(): void {}
