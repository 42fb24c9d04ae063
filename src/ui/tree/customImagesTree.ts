import * as path from 'path';
import * as vscode from 'vscode';
import { IMAGE_BUILD_DIR } from '../../core/image/customImage';
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

/** The Custom Images view: image_build folders (build) and custom base images (publish, use). Reloaded by ViewRefresh. */
export class CustomImagesTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly ctx: Ctx) {}

  reload(): void {
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
      for (const img of await services.images.customImages()) {
        images.set(img.ref, {
          kind: 'image',
          ref: img.ref,
          local: true,
          published: images.get(img.ref)?.published ?? false,
          source: img.source,
        });
      }
    } catch {
      // engine unreachable: the recorded images still show
    }
    return [...folders, ...[...images.values()].sort((a, b) => a.ref.localeCompare(b.ref))];
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
