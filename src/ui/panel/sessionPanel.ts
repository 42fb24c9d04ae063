/**
 * The session panel's vscode side: one webview panel per flow folder, reused when it is open again,
 * given a locked-down webview (scripts only from dist/webview with a nonce, no other resources), and
 * restored after a window reload by a serializer. Its logic lives in PanelController.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { FLOW_DEFINITION_FILES } from '../../core/flow/flowKind';
import { resolveFlowDir } from '../../core/flow/environment';
import { RUN_HISTORY_GLOB } from '../../core/runs/runStore';
import { PANEL_VIEW_TYPE } from '../../shared/protocol';
import { PanelController } from './panelController';
import { makeNonce, panelHtml } from './panelHtml';
import type { PanelServices } from './panelServices';

const HISTORY_DEBOUNCE_MS = 300;

export class SessionPanel implements vscode.Disposable {
  private static readonly open = new Map<string, SessionPanel>();
  private readonly controller: PanelController;
  private readonly disposables: vscode.Disposable[] = [];
  private historyTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Shows the panel of a flow folder (the folder, or any path inside it that resolveFlowDir accepts),
   * revealing the one already open for it. Throws a FlowSessionError when the folder is not a flow.
   */
  static show(services: PanelServices, flowDir: string, column: vscode.ViewColumn = vscode.ViewColumn.Active): SessionPanel {
    const dir = resolveFlowDir(flowDir);
    const existing = SessionPanel.open.get(dir);
    if (existing) {
      existing.panel.reveal(column);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPE,
      SessionPanel.title(dir),
      column,
      SessionPanel.options(services.extensionUri),
    );
    return new SessionPanel(services, dir, panel);
  }

  /** Runs one node of the flow in this panel ("Run Node"), showing it as the panel's current run. */
  runNode(node: string): Promise<void> {
    return this.controller.runNode(node);
  }

  /** The open panel of a flow folder, if any. */
  static get(flowDir: string): SessionPanel | undefined {
    return SessionPanel.open.get(flowDir);
  }

  /** Restores panels after a window reload; the extension registers it at activation. */
  static registerSerializer(services: PanelServices): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        const dir = SessionPanel.flowDirFromState(state);
        if (!dir || SessionPanel.open.has(dir)) {
          panel.dispose();
          return;
        }
        panel.webview.options = SessionPanel.options(services.extensionUri);
        panel.title = SessionPanel.title(dir);
        new SessionPanel(services, dir, panel);
      },
    });
  }

  static disposeAll(): void {
    for (const p of [...SessionPanel.open.values()]) p.dispose();
  }

  private static title(dir: string): string {
    return `Session: ${path.basename(dir)}`;
  }

  private static options(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableForms: false,
      enableCommandUris: false,
      // the webview is rebuilt when shown again; it restores from setState and the `ready` handshake
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
    };
  }

  /**
   * The webview's saved state names the flow; it is the webview's word, so it is only believed for a
   * flow folder inside the open workspace.
   */
  private static flowDirFromState(state: unknown): string | undefined {
    const flowDir = (state as { panel?: { flowDir?: unknown } } | undefined)?.panel?.flowDir;
    if (typeof flowDir !== 'string' || flowDir.length > 4096 || !path.isAbsolute(flowDir)) return undefined;
    let dir: string;
    try {
      dir = resolveFlowDir(flowDir);
    } catch {
      return undefined;
    }
    const inWorkspace = (vscode.workspace.workspaceFolders ?? []).some((f) => {
      const rel = path.relative(f.uri.fsPath, dir);
      return f.uri.scheme === 'file' && !rel.startsWith('..') && !path.isAbsolute(rel);
    });
    return inWorkspace ? dir : undefined;
  }

  private constructor(
    private readonly services: PanelServices,
    readonly flowDir: string,
    readonly panel: vscode.WebviewPanel,
  ) {
    SessionPanel.open.set(flowDir, this);
    panel.iconPath = vscode.Uri.joinPath(services.extensionUri, 'media', 'flowsession.svg');
    this.controller = new PanelController(services, flowDir, {
      postMessage: (msg) => panel.webview.postMessage(msg),
      openFile: (file) => vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true, viewColumn: vscode.ViewColumn.Beside }),
      openSource: (file, line) => {
        const at = new vscode.Position(Math.max(0, line - 1), 0);
        return vscode.window.showTextDocument(vscode.Uri.file(file), {
          preview: true,
          viewColumn: vscode.ViewColumn.Beside,
          selection: new vscode.Range(at, at),
        });
      },
      openUntitled: async (text, language) =>
        vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content: text, language }), {
          preview: true,
          viewColumn: vscode.ViewColumn.Beside,
        }),
      confirmReset: async (name) => {
        const reset = 'Reset';
        const answer = await vscode.window.showWarningMessage(
          `Reset the session of ${name}?`,
          { modal: true, detail: "The session is recreated with the flow's current environment. Packages installed by hand are removed." },
          reset,
        );
        return answer === reset;
      },
    });
    panel.webview.html = this.html();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void this.controller.handleMessage(m)),
      panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.visible) this.controller.webviewGone();
      }),
      panel.onDidDispose(() => this.dispose()),
      ...this.watchers(),
    );
    this.controller.start();
  }

  private html(): string {
    const webview = this.panel.webview;
    const asUri = (...segments: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.services.extensionUri, ...segments)).toString();
    return panelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      toolkitUri: asUri('dist', 'webview', 'toolkit.min.js'),
      scriptUri: asUri('dist', 'webview', 'panel.js'),
      styleUri: asUri('media', 'panel.css'),
    });
  }

  /** Edits of the flow definition or a .prompty remake the form; new run folders (from here, commands or the CLI) refresh the history. */
  private watchers(): vscode.Disposable[] {
    const base = vscode.Uri.file(this.flowDir);
    const flowFile = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(base, `{${[...FLOW_DEFINITION_FILES, '*.prompty'].join(',')}}`),
    );
    const onFlow = () => void this.controller.refreshFields().catch(() => undefined);
    const runs = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(base, RUN_HISTORY_GLOB));
    const onRuns = () => {
      if (this.historyTimer) clearTimeout(this.historyTimer);
      this.historyTimer = setTimeout(() => void this.controller.refreshHistory().catch(() => undefined), HISTORY_DEBOUNCE_MS);
    };
    return [
      flowFile,
      flowFile.onDidChange(onFlow),
      flowFile.onDidCreate(onFlow),
      runs,
      runs.onDidCreate(onRuns),
      runs.onDidChange(onRuns),
      runs.onDidDelete(onRuns),
    ];
  }

  dispose(): void {
    if (SessionPanel.open.get(this.flowDir) !== this) return;
    SessionPanel.open.delete(this.flowDir);
    if (this.historyTimer) clearTimeout(this.historyTimer);
    this.controller.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
