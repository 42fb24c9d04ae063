import * as path from 'path';
import * as vscode from 'vscode';
import { isValidImageRef } from '../../core/imageRef';
import { FlowSessionError } from '../../core/errors';
import { IMAGE_BUILD_DIR } from '../../core/image/customImage';
import { withLongWork } from '../feedback';
import { resolveFlow, type FlowArg } from '../flowIndex';
import type { CommandDeps } from './commandDeps';

/** The image_build folder a command acts on: the argument (a Custom Images row), the active flow's, or a pick. */
async function imageBuildFolder(d: CommandDeps, arg: unknown): Promise<string | undefined> {
  if (arg && typeof arg === 'object' && 'dir' in arg && typeof (arg as { dir: unknown }).dir === 'string')
    return (arg as { dir: string }).dir;
  if (arg instanceof vscode.Uri) return path.basename(arg.fsPath) === IMAGE_BUILD_DIR ? arg.fsPath : path.dirname(arg.fsPath);
  const folders = (await vscode.workspace.findFiles(`**/${IMAGE_BUILD_DIR}/Dockerfile`, '**/node_modules/**', 100))
    .map((u) => path.dirname(u.fsPath))
    .sort();
  const active = d.index.activeFlow();
  const activeFolder = active ? path.join(active, IMAGE_BUILD_DIR) : undefined;
  if (activeFolder && folders.includes(activeFolder)) return activeFolder;
  const editorFile = vscode.window.activeTextEditor?.document.uri.fsPath;
  const owning = editorFile && folders.find((f) => editorFile.startsWith(f + path.sep));
  if (owning) return owning;
  if (folders.length === 1) return folders[0];
  if (folders.length === 0) {
    const c = await vscode.window.showInformationMessage(
      'No image_build folder with a Dockerfile in this workspace.',
      'New Custom Base Image…',
    );
    if (c) await vscode.commands.executeCommand('flowsession.newCustomImage');
    return undefined;
  }
  return (
    await vscode.window.showQuickPick(
      folders.map((f) => ({ label: vscode.workspace.asRelativePath(f), dir: f })),
      { placeHolder: 'Build which image_build folder?' },
    )
  )?.dir;
}

/** Scaffolds image_build/ in `target` when it is given (a script, a test), else in the folder asked for. */
export async function newCustomImage(d: CommandDeps, target?: unknown): Promise<void> {
  const given = target instanceof vscode.Uri ? target.fsPath : typeof target === 'string' ? target : undefined;
  const active = given ?? d.index.activeFlow();
  const flows = await d.index.list();
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const choices = given ? [given] : [...new Set([active, ...flows, root].filter((x): x is string => !!x))];
  if (choices.length === 0) throw new FlowSessionError('bad-input', 'Open a folder first.', 'The image_build folder is created in it.');
  const dir =
    choices.length === 1
      ? choices[0]
      : (
          await vscode.window.showQuickPick(
            choices.map((c) => ({
              label: vscode.workspace.asRelativePath(c),
              description: c === root ? 'workspace folder' : 'flow folder',
              dir: c,
            })),
            { placeHolder: 'Create image_build/ in which folder?' },
          )
        )?.dir;
  if (!dir) return;
  const { scaffoldCustomImage } = await import('../../core/image/customImage');
  const { folder, written } = scaffoldCustomImage(dir);
  d.ctx.log.info(written.length ? `Created ${written.join(', ')}` : `${folder} exists already`);
  d.views.images();
  await vscode.window.showTextDocument(vscode.Uri.file(path.join(folder, 'Dockerfile')));
}

export async function buildCustomImage(d: CommandDeps, arg?: unknown): Promise<void> {
  const { ctx } = d;
  const folder = await imageBuildFolder(d, arg);
  if (!folder) return;
  const { defaultCustomTag } = await import('../../core/image/customImage');
  const tag = await vscode.window.showInputBox({
    title: 'Build Custom Base Image: local image name',
    value: defaultCustomTag(folder),
    validateInput: (v) => (isValidImageRef(v.trim()) ? undefined : 'Not a valid image name (e.g. flowsession-custom/my-flow:latest).'),
  });
  if (!tag) return;
  const { images } = await ctx.services();
  const flowDir = d.index.flowOf(vscode.Uri.file(path.join(folder, 'Dockerfile')));
  ctx.log.show(true);
  const id = await withLongWork(ctx, `Building ${tag.trim()}`, false, (w) =>
    images.buildCustomImage({
      folder,
      tag: tag.trim(),
      flowDir,
      onProgress: w.report,
      onRuntimeImage: (runtime, base) => ctx.log.info(`Building ${tag.trim()} FROM ${runtime} (the runtime image of ${base})`),
    }),
  );
  ctx.log.info(`Built ${tag.trim()} (${id})`);
  d.views.images();
  const choice = await vscode.window.showInformationMessage(`Built ${tag.trim()}.`, 'Publish…', 'Use as Base Image…');
  if (choice === 'Publish…') await vscode.commands.executeCommand('flowsession.publishCustomImage', { ref: tag.trim() });
  if (choice === 'Use as Base Image…') await vscode.commands.executeCommand('flowsession.changeBaseImage', undefined, tag.trim());
}

export async function publishCustomImage(d: CommandDeps, arg?: { ref?: string }): Promise<void> {
  const { ctx } = d;
  const { images } = await ctx.services();
  const { publishTarget } = await import('../../core/image/customImage');
  let local = typeof arg?.ref === 'string' ? arg.ref : undefined;
  if (!local) {
    const refs = await images.publishableImages();
    local = refs.length === 1 ? refs[0] : await vscode.window.showQuickPick(refs, { placeHolder: 'Publish which image?' });
    if (!local) return;
  }
  const registry = ctx.settings.registry;
  const version = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const target = await vscode.window.showInputBox({
    title: `Publish ${local}`,
    prompt: registry
      ? `Tagged and pushed to ${registry} (flowsession.registry)`
      : 'No registry set (flowsession.registry): the image is tagged and recorded for this workspace, not pushed.',
    value: publishTarget(local, registry, version),
    validateInput: (v) => (isValidImageRef(v.trim()) ? undefined : 'Not a valid image name.'),
  });
  if (!target) return;
  const record = await withLongWork(ctx, `Publishing ${target.trim()}`, false, (w) =>
    images.publish(local!, target.trim(), !!registry, w.report),
  );
  await ctx.customImages.add(record);
  ctx.log.info(`Published ${record.ref}${record.pushed ? ` (pushed${record.digest ? `, ${record.digest}` : ''})` : ' (tagged locally)'}`);
  d.views.images();
  const choice = await vscode.window.showInformationMessage(
    `Published ${record.ref}${record.pushed ? '' : ' locally (set flowsession.registry to push)'}.`,
    'Use as Base Image…',
  );
  if (choice) await vscode.commands.executeCommand('flowsession.changeBaseImage', undefined, record.ref);
}

export async function useCustomImage(arg?: { ref?: string }): Promise<void> {
  if (arg?.ref) await vscode.commands.executeCommand('flowsession.changeBaseImage', undefined, arg.ref);
}

export async function changeBaseImage(d: CommandDeps, arg?: FlowArg, preset?: string): Promise<void> {
  const { ctx } = d;
  const flowDir = await resolveFlow(d.index, arg, 'Change the base image of which flow?');
  if (!flowDir) return;
  const file = path.join(flowDir, 'flow.dag.yaml');
  const { readFlowEnvironment } = await import('../../core/flow/environment');
  const current = readFlowEnvironment(flowDir).image;
  let image: string | undefined | null = preset;
  if (!preset) {
    const def = ctx.settings.session.baseImage;
    type Item = vscode.QuickPickItem & { image?: string | null };
    const items: Item[] = [
      { label: `$(discard) Default (${def})`, description: 'remove environment.image; flowsession.baseImage applies', image: null },
      ...ctx.customImages
        .list()
        .map((r): Item => ({ label: r.ref, description: r.pushed ? 'published custom image' : 'custom image (local)', image: r.ref })),
      { label: '$(edit) Other image…', description: 'any image with Python 3.9+', image: undefined },
    ];
    const pick = await vscode.window.showQuickPick(items, {
      title: `Base image of ${path.basename(flowDir)}`,
      placeHolder: current ? `now: ${current}` : `now: the default (${def})`,
    });
    if (!pick) return;
    image = pick.image;
    if (image === undefined) {
      const typed = await vscode.window.showInputBox({
        title: 'Base image',
        value: current ?? '',
        placeHolder: 'python:3.12-slim, my-registry.io/team/flow-base:1.0',
        validateInput: (v) => (isValidImageRef(v.trim()) ? undefined : 'Not a valid image reference.'),
      });
      if (!typed) return;
      image = typed.trim();
    }
  }
  const { setEnvironmentImage } = await import('../../core/flow/environmentImageEdit');
  const uri = vscode.Uri.file(file);
  const doc = await vscode.workspace.openTextDocument(uri);
  const before = doc.getText();
  const after = setEnvironmentImage(before, image ?? undefined);
  if (after !== before) {
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(doc.positionAt(0), doc.positionAt(before.length)), after);
    await vscode.workspace.applyEdit(edit);
    await doc.save();
  }
  ctx.log.info(`environment.image of ${flowDir}: ${image ?? '(default)'}`);
  const { manager } = await ctx.services();
  const status = await manager.status(flowDir);
  if (status.state !== 'not-created' && status.state !== 'unavailable') {
    const c = await vscode.window.showInformationMessage(
      `The session of ${path.basename(flowDir)} still runs on ${status.baseImage ?? 'the old image'}. Reset it to use ${image ?? 'the default image'}?`,
      'Reset Session',
    );
    if (c) await vscode.commands.executeCommand('flowsession.resetSession', flowDir);
  }
}

export async function checkBaseImageUpdates(d: CommandDeps, arg?: FlowArg): Promise<void> {
  const { ctx } = d;
  const flowDir = await resolveFlow(d.index, arg, 'Check the base image of which flow?');
  if (!flowDir) return;
  const { images, manager } = await ctx.services();
  const ref = images.baseImageOf(flowDir);
  const check = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Asking the registry about ${ref}` },
    () => images.checkForUpdate(ref),
  );
  ctx.log.info(
    `Base image ${ref}: ${check.state} (local ${check.localDigests.join(', ') || 'none'}, registry ${check.remoteDigest ?? 'unknown'})`,
  );
  if (check.state === 'up-to-date') {
    void vscode.window.showInformationMessage(`${ref} is up to date.`);
    return;
  }
  if (check.state === 'unknown') {
    void vscode.window.showInformationMessage(
      `Could not compare ${ref} with its registry: ${check.registryError ?? 'a local-only image, or the registry does not know it'}.`,
    );
    return;
  }
  const what = check.state === 'not-pulled' ? `${ref} is not on the engine yet.` : `A newer ${ref} is in the registry.`;
  const c = await vscode.window.showInformationMessage(what, 'Pull and Reset Session', 'Pull');
  if (!c) return;
  await withLongWork(ctx, `Pulling ${ref}`, false, (w) => images.pull(ref, w.report));
  if (c === 'Pull and Reset Session') {
    const status = await manager.status(flowDir);
    if (status.state === 'not-created') {
      void vscode.window.showInformationMessage(`Pulled ${ref}; the next session of ${path.basename(flowDir)} uses it.`);
      return;
    }
    await withLongWork(ctx, `Resetting the session of ${path.basename(flowDir)}`, false, (w) => manager.reset(flowDir, w.report));
  }
}
