import * as vscode from 'vscode';
import { engineName, listContexts } from '../core/docker/endpoint';
import type { Ctx } from './ctx';

interface EngineItem extends vscode.QuickPickItem {
  context?: string;
  address?: boolean;
}

/** The engine the extension uses now, in a few words: its Docker context, else its address. */
export function currentEngineLabel(ctx: Ctx): string | undefined {
  const endpoint = ctx.loadedServices()?.engine.endpoint;
  return endpoint ? engineName(endpoint) : undefined;
}

/**
 * "Flow Session: Select Engine…": the Docker contexts (`docker context ls`), the local default, or an address.
 * A context goes to `flowsession.engine` for this workspace (and a workspace `flowsession.dockerHost`, which
 * would win over it, is cleared); an address goes to `flowsession.dockerHost`. The settings change reconnects.
 */
export async function selectEngine(ctx: Ctx): Promise<void> {
  const config = vscode.workspace.getConfiguration('flowsession');
  const current = ctx.loadedServices()?.engine.endpoint;
  const items: EngineItem[] = [
    { label: 'default', description: 'the local engine (DOCKER_HOST, else the default socket)', context: '' },
    ...listContexts()
      .filter((c) => c.name !== 'default')
      .map((c) => ({ label: c.name, description: c.host, context: c.name })),
    { label: '$(edit) Enter an engine address…', description: 'tcp://host:2376, ssh://user@host, unix:///path', address: true },
  ];
  for (const item of items)
    if (
      current &&
      item.context !== undefined &&
      (item.context || 'default') === (current.context ?? 'default') &&
      !config.get<string>('dockerHost')
    )
      item.detail = '$(check) in use';
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Select the engine for flow sessions',
    placeHolder: current ? `now: ${engineName(current)}` : undefined,
    matchOnDescription: true,
  });
  if (!pick) return;
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  if (pick.address) {
    const address = await vscode.window.showInputBox({
      title: 'Engine address',
      value: config.get<string>('dockerHost') ?? '',
      prompt: 'tcp:// (TLS from DOCKER_CERT_PATH), ssh://user@host[:port] (keys from ssh-agent or ~/.ssh), unix://',
      validateInput: (v) =>
        /^(tcp|ssh|unix|npipe|https?):\/\/\S+$/.test(v.trim()) ? undefined : 'Use tcp://host:port, ssh://user@host or unix:///path',
    });
    if (address === undefined) return;
    await config.update('dockerHost', address.trim(), target);
    return;
  }
  if (config.inspect<string>('dockerHost')?.workspaceValue)
    await config.update('dockerHost', undefined, vscode.ConfigurationTarget.Workspace);
  await config.update('engine', pick.context || '', target);
}
