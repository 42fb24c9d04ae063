import * as path from 'path';
import * as vscode from 'vscode';
import { errorMessage, isFlowSessionError } from '../../core/errors';
import { flowsInFolder, kindsLabel } from '../../core/flow/flowKind';
import type { InstalledPackage } from '../../core/session/packages';
import type { SessionStatus } from '../../core/session/state';
import type { Ctx } from '../ctx';
import { realFlowDir, type FlowIndex } from '../flowIndex';
import { recentRuns } from '../runHistory';
import { contextValueOf, describeState, isRunning, STATE_LOOK } from '../stateView';

export class FlowNode {
  readonly kind = 'flow';
  constructor(readonly flowDir: string) {}
}

export class DetailNode {
  readonly kind = 'detail';
  constructor(
    readonly flowDir: string,
    readonly item: vscode.TreeItem,
    readonly children: DetailNode[] = [],
  ) {}
}

type Node = FlowNode | DetailNode;

/**
 * The Sessions view: one row per flow folder with its kinds of flow and its session state; children list its
 * flows (the DAG or flex definition and each .prompty, with their kind and run actions), base image,
 * environment and the last run. Reloaded by ViewRefresh (session changes, engine events); never polls.
 */
export class SessionsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly nodes = new Map<string, FlowNode>();
  private readonly statuses = new Map<string, SessionStatus>();
  private readonly packages = new Map<string, Promise<InstalledPackage[] | undefined>>();
  private view?: vscode.TreeView<Node>;

  constructor(
    private readonly ctx: Ctx,
    private readonly index: FlowIndex,
  ) {}

  attach(view: vscode.TreeView<Node>): void {
    this.view = view;
  }

  /** Reloads the rows of these flows ('*': every row). */
  reload(keys: Set<string>): void {
    if (keys.has('*')) {
      this.statuses.clear();
      this.packages.clear();
      this.emitter.fire(undefined);
      return;
    }
    for (const key of keys) {
      this.packages.delete(key);
      const node = this.nodes.get(key);
      if (!node) {
        // a flow the tree does not show yet (new folder, or a path spelled differently): reload everything
        this.statuses.clear();
        this.emitter.fire(undefined);
        return;
      }
      void this.loadStatus(node.flowDir).then(
        () => this.emitter.fire(node),
        () => this.emitter.fire(node),
      );
    }
  }

  private async loadStatus(flowDir: string): Promise<SessionStatus> {
    const services = await this.ctx.services();
    let status: SessionStatus;
    try {
      status = await services.manager.status(flowDir);
    } catch (e) {
      if (isFlowSessionError(e) && e.engineUnreachable) throw e;
      status = { flowDir, key: '', state: 'failed', reason: errorMessage(e), outdated: false, engine: services.engine.endpoint.host };
    }
    this.statuses.set(flowDir, status);
    return status;
  }

  status(flowDir: string): SessionStatus | undefined {
    return this.statuses.get(realFlowDir(flowDir));
  }

  async getChildren(element?: Node): Promise<Node[]> {
    if (!element) return this.roots();
    if (element instanceof FlowNode) return this.details(element.flowDir);
    return element.children;
  }

  private async roots(): Promise<Node[]> {
    const flows = (await this.index.list()).map(realFlowDir);
    if (flows.length === 0) {
      this.setMessage(undefined);
      return [];
    }
    if (this.ctx.engineState === 'unreachable') {
      // asked again only on Retry (or a command): asking here would refresh the view in a loop. The
      // "engine unreachable" welcome view shows (a view message would hide it), worded by the error kind.
      this.setMessage(undefined);
      return [];
    }
    try {
      await this.ctx.services();
    } catch {
      this.setMessage(undefined);
      return [];
    }
    this.setMessage(undefined);
    const nodes = flows.map((f) => {
      let n = this.nodes.get(f);
      if (!n) {
        n = new FlowNode(f);
        this.nodes.set(f, n);
      }
      return n;
    });
    for (const key of [...this.nodes.keys()]) if (!flows.includes(key)) this.nodes.delete(key);
    const missing = nodes.filter((n) => !this.statuses.has(n.flowDir)).map((n) => n.flowDir);
    if (missing.length > 0) {
      // one engine list call for all of them (a workspace may hold a hundred flows), not an inspect each
      const services = await this.ctx.services();
      const found = await services.manager.statusesOf(missing).catch(() => undefined);
      if (found) for (const st of found) this.statuses.set(st.flowDir, st);
      else await Promise.all(missing.map((f) => this.loadStatus(f).catch(() => undefined)));
    }
    return nodes;
  }

  private setMessage(message: string | undefined): void {
    if (this.view) this.view.message = message;
  }

  getTreeItem(element: Node): vscode.TreeItem {
    if (element instanceof DetailNode) return element.item;
    const s = this.statuses.get(element.flowDir);
    const item = new vscode.TreeItem(path.basename(element.flowDir), vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `flow:${element.flowDir}`;
    item.resourceUri = vscode.Uri.file(element.flowDir);
    // a plain DAG folder reads as before; a folder with flex or prompty flows says so before its state
    const kinds = kindsLabel(flowsInFolder(element.flowDir));
    const prefix = kinds === 'dag' ? '' : `${kinds} · `;
    if (!s) {
      item.description = `${prefix}unknown`;
      item.iconPath = new vscode.ThemeIcon('question');
      item.contextValue = 'flowsession.flow state:unknown';
      return item;
    }
    const look = STATE_LOOK[s.state];
    item.description = `${prefix}${describeState(s)}`;
    item.iconPath = new vscode.ThemeIcon(look.icon, look.color ? new vscode.ThemeColor(look.color) : undefined);
    item.contextValue = contextValueOf(s);
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(`**${path.basename(s.flowDir)}** — ${describeState(s)}\n\n`);
    tip.appendText(`${s.flowDir}\n`);
    if (s.reason) tip.appendMarkdown('\n\n').appendText(s.reason);
    if (s.outdated) tip.appendMarkdown("\n\n$(warning) The flow's environment changed; reset the session to apply it.");
    if (s.containerName) tip.appendMarkdown('\n\n').appendText(`container ${s.containerName} on ${s.engine}`);
    item.tooltip = tip;
    return item;
  }

  private async details(flowDir: string): Promise<DetailNode[]> {
    const s = this.statuses.get(flowDir) ?? (await this.loadStatus(flowDir).catch(() => undefined));
    const out: DetailNode[] = [];
    for (const f of flowsInFolder(flowDir)) {
      // each flow of the folder, by its file: run, batch and validate act on it (the session is the folder's)
      const file = path.join(flowDir, f.file);
      const row = new vscode.TreeItem(f.file);
      row.description = f.kind === 'dag' ? 'DAG flow' : f.kind === 'flex' ? 'flex flow' : 'prompty';
      row.iconPath = new vscode.ThemeIcon(
        f.kind === 'prompty' ? 'comment-discussion' : f.kind === 'flex' ? 'symbol-method' : 'type-hierarchy',
      );
      row.resourceUri = vscode.Uri.file(file);
      row.contextValue = `flowsession.flowFile kind:${f.kind}`;
      row.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(file)] };
      out.push(new DetailNode(file, row));
    }
    let configured: string | undefined;
    let requirementsFile: string | undefined;
    try {
      const { readFlowEnvironment } = await import('../../core/flow/environment');
      const env = readFlowEnvironment(flowDir);
      configured = this.ctx.loadedServices()?.manager.baseImageFor(env) ?? env.image;
      requirementsFile = env.requirementsFile;
    } catch {
      // shown by the on-save diagnostics
    }
    const image = new vscode.TreeItem('Base image');
    image.description = s?.baseImage ?? configured ?? '';
    image.iconPath = new vscode.ThemeIcon('package');
    image.tooltip = s?.image
      ? `session image ${s.image}${s.baseImage && configured && s.baseImage !== configured ? `\nconfigured: ${configured}` : ''}`
      : 'used when the session is created';
    image.contextValue = 'flowsession.baseImage';
    out.push(new DetailNode(flowDir, image));

    const envChildren: DetailNode[] = [];
    const envItem = new vscode.TreeItem('Environment');
    envItem.iconPath = new vscode.ThemeIcon('library');
    let envDescription = requirementsFile ?? 'no requirements file';
    if (requirementsFile) {
      const req = new vscode.TreeItem(requirementsFile);
      req.iconPath = new vscode.ThemeIcon('file');
      req.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(path.join(flowDir, requirementsFile))] };
      envChildren.push(new DetailNode(flowDir, req));
    }
    if (s && isRunning(s.state)) {
      const pkgs = await this.packagesOf(flowDir);
      if (pkgs) {
        const byHand = pkgs.filter((p) => p.origin === 'by-hand');
        envDescription += ` · ${pkgs.length} packages${byHand.length ? ` (${byHand.length} by hand)` : ''}`;
        for (const p of byHand) {
          const it = new vscode.TreeItem(`${p.name} ${p.version}`);
          it.description = 'installed by hand · lost on reset';
          it.iconPath = new vscode.ThemeIcon('hand');
          envChildren.push(new DetailNode(flowDir, it));
        }
      }
    }
    envItem.description = envDescription;
    envItem.collapsibleState = envChildren.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
    out.push(new DetailNode(flowDir, envItem, envChildren));

    const [last] = await recentRuns(flowDir, 1);
    const run = new vscode.TreeItem('Last run');
    run.iconPath = new vscode.ThemeIcon(
      last ? (last.status === 'Completed' ? 'pass' : last.status === 'Failed' ? 'error' : 'history') : 'history',
    );
    if (last) {
      run.description = `${last.status} · ${new Date(last.time).toLocaleString()}`;
      run.tooltip = last.runId;
      if (last.mainFile) run.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(last.mainFile)] };
    } else {
      run.description = 'none yet';
    }
    out.push(new DetailNode(flowDir, run));
    return out;
  }

  private packagesOf(flowDir: string): Promise<InstalledPackage[] | undefined> {
    let p = this.packages.get(flowDir);
    if (!p) {
      p = this.ctx
        .services()
        .then((s) => s.manager.packages(flowDir))
        .catch(() => undefined);
      this.packages.set(flowDir, p);
    }
    return p;
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
