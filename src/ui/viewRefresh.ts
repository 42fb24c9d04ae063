import * as path from 'path';
import * as vscode from 'vscode';
import { FLOW_DEFINITION_FILES } from '../core/flow/flowKind';
import { IMAGE_BUILD_DIR } from '../core/image/customImage';
import type { Ctx } from './ctx';
import { realFlowDir, type FlowIndex } from './flowIndex';
import { RefreshDebouncer } from './refreshDebouncer';
import { isStateChange } from './stateView';

/** What the views show, refreshed by ViewRefresh. */
export interface RefreshedViews {
  /** the Sessions view: the flows named, or every flow for '*' */
  sessions: { reload(flowDirs: Set<string>): void };
  customImages: { reload(): void };
  /** the status bar item and the active flow's context keys */
  statusBar: { update(): Promise<void> };
}

const ALL = '*';
const IMAGES = 'images';
const STATUS = 'status';
const SESSION = 'session:';

/**
 * The one owner of view refreshes (after vscode-containers' RefreshManager): every event that changes what
 * a view shows (session changes, engine state, rebuilt services, the flow index, saves, the active editor,
 * image_build folders) and every explicit request goes through one debouncer, so a burst of engine events
 * refreshes a tree row and the status bar once. Views never poll and never subscribe on their own.
 */
export class ViewRefresh implements vscode.Disposable {
  private readonly debouncer = new RefreshDebouncer((keys) => this.deliver(keys));
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    ctx: Ctx,
    index: FlowIndex,
    private readonly views: RefreshedViews,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${IMAGE_BUILD_DIR}/Dockerfile`);
    this.disposables.push(
      watcher,
      watcher.onDidCreate(() => this.images()),
      watcher.onDidDelete(() => this.images()),
      ctx.onDidChangeSession((c) => {
        if (isStateChange(c.action)) this.session(c.flowDir);
      }),
      ctx.onDidChangeServices(() => this.all()),
      ctx.onDidChangeEngineState(() => this.session()),
      index.onDidChange(() => this.session()),
      vscode.window.onDidChangeActiveTextEditor(() => this.statusBar()),
      vscode.workspace.onDidSaveTextDocument((d) => {
        // a changed environment (image, requirements) marks the session outdated
        const base = path.basename(d.uri.fsPath);
        const definition = FLOW_DEFINITION_FILES.includes(base);
        const flow = definition || /requirements.*\.txt$/.test(base) ? index.flowOf(d.uri) : undefined;
        if (flow) this.session(realFlowDir(flow));
        else this.statusBar();
      }),
    );
  }

  /** A flow's session changed (every flow's without one); the status bar follows. */
  session(flowDir?: string): void {
    this.debouncer.signal(SESSION + (flowDir ?? ALL));
  }

  images(): void {
    this.debouncer.signal(IMAGES);
  }

  statusBar(): void {
    this.debouncer.signal(STATUS);
  }

  /** Everything, after the usual quiet period, or at once (the Refresh button, Retry). */
  all(now = false): void {
    this.debouncer.signal(SESSION + ALL);
    this.debouncer.signal(IMAGES);
    if (now) this.debouncer.flush();
  }

  private deliver(keys: Set<string>): void {
    const flows = new Set([...keys].filter((k) => k.startsWith(SESSION)).map((k) => k.slice(SESSION.length)));
    if (flows.size > 0) this.views.sessions.reload(flows.has(ALL) ? new Set([ALL]) : flows);
    if (keys.has(IMAGES)) this.views.customImages.reload();
    if (flows.size > 0 || keys.has(STATUS)) void this.views.statusBar.update();
  }

  dispose(): void {
    this.debouncer.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
