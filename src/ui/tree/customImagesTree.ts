import * as path from 'path';
import * as vscode from 'vscode';
import { CUSTOM_IMAGE_KIND, CUSTOM_SOURCE_LABEL, IMAGE_BUILD_DIR } from '../../core/image/customImage';
import { IMAGE_LABELS } from '../../core/image/labels';
import type { Ctx } from '../ctx';

export interface BuildFolderNode {
  kind: 'folder';
  /** the image_build folder */
  dir: string;
}

export interface ImageNode {
  kind: 'image';
  ref: string;
  /** built here (on the engine) or only recorded as published */
  local: boolean;
  published: boolean;
  source?: string;
}

type Node = BuildFolderNode | ImageNode;

/** The Custom Images view: image_build folders (build) and custom base images (publish, use). */
export class CustomImagesTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];

  constructor(private readonly ctx: Ctx) {
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${IMAGE_BUILD_DIR}/Dockerfile`);
    this.disposables.push(
      watcher,
      watcher.onDidCreate(() => this.refresh()),
      watcher.onDidDelete(() => this.refresh()),
      ctx.onDidChangeServices(() => this.refresh()),
    );
  }

  refresh(): void {
    this.emitter.fire();
  }

  getTreeItem(n: Node): vscode.TreeItem {
    if (n.kind === 'folder') {
      const item = new vscode.TreeItem(vscode.workspace.asRelativePath(n.dir));
      item.description = 'image_build';
      item.iconPath = new vscode.ThemeIcon('folder');
      item.contextValue = 'flowsession.imageBuildFolder';
      item.tooltip = `${n.dir}\nBuild it with "Build Custom Base Image".`;
      item.command = { command: 'vscode.open', title: 'Open Dockerfile', arguments: [vscode.Uri.file(path.join(n.dir, 'Dockerfile'))] };
      return item;
    }
    const item = new vscode.TreeItem(n.ref);
    item.description = [n.local ? 'local' : undefined, n.published ? 'published' : undefined].filter(Boolean).join(' · ');
    item.iconPath = new vscode.ThemeIcon(n.published ? 'cloud' : 'package');
    item.contextValue = `flowsession.customImage${n.local ? ' local' : ''}${n.published ? ' published' : ''}`;
    item.tooltip = n.source ? `built from ${n.source}` : n.ref;
    return item;
  }

  async getChildren(n?: Node): Promise<Node[]> {
    if (n) return [];
    const folders = (await vscode.workspace.findFiles(`**/${IMAGE_BUILD_DIR}/Dockerfile`, '**/node_modules/**', 100))
      .map((u): Node => ({ kind: 'folder', dir: path.dirname(u.fsPath) }))
      .sort((a, b) => (a as BuildFolderNode).dir.localeCompare((b as BuildFolderNode).dir));
    const images = new Map<string, ImageNode>();
    for (const r of this.ctx.customImages.list()) images.set(r.ref, { kind: 'image', ref: r.ref, local: false, published: true });
    try {
      const services = await this.ctx.services();
      for (const img of await services.engine.listImages({ [IMAGE_LABELS.kind]: CUSTOM_IMAGE_KIND })) {
        for (const tag of img.tags) {
          if (tag === '<none>:<none>') continue;
          const existing = images.get(tag);
          images.set(tag, {
            kind: 'image',
            ref: tag,
            local: true,
            published: existing?.published ?? false,
            source: img.labels[CUSTOM_SOURCE_LABEL],
          });
        }
      }
    } catch {
      // engine unreachable: the recorded images still show
    }
    return [...folders, ...[...images.values()].sort((a, b) => a.ref.localeCompare(b.ref))];
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
