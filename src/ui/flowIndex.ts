import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { NOT_FLOW_SOURCES } from '../core/flow/notFlowSources';
import { definitionFileIn, isFlowFolder, kindOfFileName, promptyFilesIn } from '../core/flow/flowKind';
import { FLOW_FILES_GLOB, flowDirOf, shallowFlowDirs } from './flowLocator';

const EXCLUDE = `{${[...NOT_FLOW_SOURCES].map((d) => `**/${d}/**`).join(',')}}`;

/**
 * The flow folders of the workspace (folders with flow.dag.yaml or flow.flex.yaml, or with .prompty files: each
 * folder is one session), kept current by a file watcher.
 */
export class FlowIndex implements vscode.Disposable {
  private flows = new Set<string>();
  /** folders the watcher reported while a workspace search was running */
  private changedDuringSearch?: Set<string>;
  private loaded?: Promise<void>;
  private readonly emitter = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  readonly onDidChange = this.emitter.event;

  constructor() {
    const watcher = vscode.workspace.createFileSystemWatcher(FLOW_FILES_GLOB, false, true, false);
    this.disposables.push(
      watcher,
      watcher.onDidCreate((u) => this.add(path.dirname(u.fsPath))),
      // a folder stays a flow while another flow file (a second .prompty, the other definition) remains
      watcher.onDidDelete((u) => (isFlowFolder(path.dirname(u.fsPath)) ? undefined : this.remove(path.dirname(u.fsPath)))),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.refresh()),
    );
    // flow commands show at once in the usual layouts; the file search that follows finds the rest
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (folder.uri.scheme === 'file') for (const dir of shallowFlowDirs(folder.uri.fsPath)) this.flows.add(dir);
    }
    if (this.flows.size > 0) void vscode.commands.executeCommand('setContext', 'flowsession.workspaceHasFlows', true);
  }

  private add(dir: string): void {
    this.changedDuringSearch?.add(dir);
    if (this.flows.has(dir)) return;
    this.flows.add(dir);
    this.changed();
  }

  private remove(dir: string): void {
    this.changedDuringSearch?.add(dir);
    if (this.flows.delete(dir)) this.changed();
  }

  private changed(): void {
    void vscode.commands.executeCommand('setContext', 'flowsession.workspaceHasFlows', this.flows.size > 0);
    this.emitter.fire();
  }

  /** Searches the workspace again. */
  refresh(): Promise<void> {
    const changedDuringSearch = new Set<string>();
    this.changedDuringSearch = changedDuringSearch;
    this.loaded = (async () => {
      const uris = await vscode.workspace.findFiles(FLOW_FILES_GLOB, EXCLUDE, 2000);
      if (this.changedDuringSearch === changedDuringSearch) this.changedDuringSearch = undefined;
      const found = new Set(uris.map((u) => path.dirname(u.fsPath)));
      // a folder the watcher reported while the search ran is as the disk has it now, not as the search saw it
      for (const dir of changedDuringSearch) {
        if (isFlowFolder(dir)) found.add(dir);
        else found.delete(dir);
      }
      this.flows = found;
      this.changed();
    })();
    return this.loaded;
  }

  async list(): Promise<string[]> {
    await (this.loaded ?? this.refresh());
    // the usual layouts are looked at again with a few stats: a watcher can miss files written into a folder it
    // has only just begun to watch (a flow folder made and filled at once)
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (folder.uri.scheme !== 'file') continue;
      for (const dir of shallowFlowDirs(folder.uri.fsPath)) if (!this.flows.has(dir)) this.flows.add(dir);
    }
    return [...this.flows].sort((a, b) => a.localeCompare(b));
  }

  /** The flow folder of a file (the nearest folder up with a flow definition or .prompty files, inside its workspace folder). */
  flowOf(uri: vscode.Uri | undefined): string | undefined {
    if (!uri || uri.scheme !== 'file') return undefined;
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    return flowDirOf(uri.fsPath, folder?.uri.fsPath);
  }

  /** The flow folder of the active editor, if any. */
  activeFlow(): string | undefined {
    return this.flowOf(vscode.window.activeTextEditor?.document.uri);
  }

  /** The .prompty being edited, if the active editor shows one: what Run and Batch act on then. */
  activePrompty(): string | undefined {
    const uri = vscode.window.activeTextEditor?.document.uri;
    return uri?.scheme === 'file' && kindOfFileName(uri.fsPath) === 'prompty' ? uri.fsPath : undefined;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** A flow folder as the engine labels its session: symbolic links resolved (the path as given when it is gone). */
export function realFlowDir(flowDir: string): string {
  try {
    return fs.realpathSync(flowDir);
  } catch {
    return flowDir;
  }
}

/** What a command may be invoked with: a tree row, an explorer Uri, a flow folder path. */
export type FlowArg = { flowDir: string } | vscode.Uri | string | undefined;

/**
 * The flow a command acts on: the argument, else the active editor's flow, else the only flow of the
 * workspace, else the user's pick. Undefined when there is none or the pick was dismissed. Session commands get
 * the flow's folder (its session); with `flowFile`, run commands get the flow itself: a .prompty or flow file
 * when one was named, and a pick among the .prompty files of a folder that has no flow definition.
 */
export async function resolveFlow(
  index: FlowIndex,
  arg: FlowArg,
  purpose = 'Which flow?',
  options: { flowFile?: boolean } = {},
): Promise<string | undefined> {
  const found = (options.flowFile && arg === undefined && index.activePrompty()) || (await resolveFlowPath(index, arg, purpose));
  if (!found) return undefined;
  const isFile = (() => {
    try {
      return fs.statSync(found).isFile();
    } catch {
      return false;
    }
  })();
  if (!options.flowFile) return isFile ? path.dirname(found) : found;
  if (isFile || definitionFileIn(found)) return found;
  const prompties = promptyFilesIn(found);
  if (prompties.length <= 1) return found;
  const pick = await vscode.window.showQuickPick(
    prompties.map((p) => ({ label: p, description: 'prompty', file: path.join(found, p) })),
    { placeHolder: purpose },
  );
  return pick?.file;
}

async function resolveFlowPath(index: FlowIndex, arg: FlowArg, purpose: string): Promise<string | undefined> {
  if (typeof arg === 'string' && arg) return arg;
  if (arg instanceof vscode.Uri) {
    // a .prompty (or a flow file) names that flow; its session is its folder's
    if (arg.scheme === 'file' && kindOfFileName(arg.fsPath)) return arg.fsPath;
    return index.flowOf(arg) ?? arg.fsPath;
  }
  if (arg && typeof arg === 'object' && 'flowDir' in arg && typeof arg.flowDir === 'string') return arg.flowDir;
  const active = index.activeFlow();
  if (active) return active;
  const flows = await index.list();
  if (flows.length === 1) return flows[0];
  if (flows.length === 0) {
    void vscode.window
      .showWarningMessage(
        'No flow in this workspace (a folder with flow.dag.yaml or flow.flex.yaml, or a .prompty file).',
        'Create Sample Flow',
      )
      .then((c) => {
        if (c) void vscode.commands.executeCommand('flowsession.createSampleFlow');
      });
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    flows.map((f) => ({ label: path.basename(f), description: vscode.workspace.asRelativePath(f), flowDir: f })),
    { placeHolder: purpose },
  );
  return pick?.flowDir;
}
