import * as vscode from 'vscode';
import { checkApiBase, checkConnectionName, type ConnectionKind } from '../connectionSpec';
import type { Ctx } from '../ctx';

/** Set Connection…: a five-step wizard (name, type, api_base, api_version, key); the key goes to secret storage. */
export async function setConnection(ctx: Ctx): Promise<void> {
  const existing = ctx.connections.list();
  const name = await vscode.window.showInputBox({
    title: 'Set Connection (1/5): name',
    prompt: "The connection name the flow's llm nodes use (connection: <name>)",
    value: existing[0]?.name ?? 'open_ai_connection',
    validateInput: checkConnectionName,
    ignoreFocusOut: true,
  });
  if (!name) return;
  const old = existing.find((c) => c.name === name);
  const kinds: { label: string; type: ConnectionKind }[] = [
    { label: 'Azure OpenAI', type: 'AzureOpenAIConnection' },
    { label: 'OpenAI', type: 'OpenAIConnection' },
    { label: 'Custom', type: 'CustomConnection' },
  ];
  const kind = await vscode.window.showQuickPick(
    kinds.map((k) => ({ ...k, picked: k.type === old?.type })),
    { title: 'Set Connection (2/5): type', ignoreFocusOut: true },
  );
  if (!kind) return;
  const apiBase = await vscode.window.showInputBox({
    title: 'Set Connection (3/5): api_base',
    prompt: kind.type === 'AzureOpenAIConnection' ? 'https://<resource>.openai.azure.com/' : 'Leave empty for https://api.openai.com/v1',
    value: old?.api_base ?? '',
    validateInput: (v) => checkApiBase(v.trim(), kind.type === 'AzureOpenAIConnection'),
    ignoreFocusOut: true,
  });
  if (apiBase === undefined) return;
  let apiVersion: string | undefined;
  if (kind.type === 'AzureOpenAIConnection') {
    apiVersion = await vscode.window.showInputBox({
      title: 'Set Connection (4/5): api_version',
      value: old?.api_version ?? '2024-02-01',
      ignoreFocusOut: true,
    });
    if (apiVersion === undefined) return;
  }
  const key = await vscode.window.showInputBox({
    title: 'Set Connection (5/5): api key',
    prompt: old
      ? "Leave empty to keep the stored key. Kept in VS Code's secret storage; runs receive it per request."
      : "Kept in VS Code's secret storage; runs receive it per request.",
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return;
  await ctx.connections.set(
    { name, type: kind.type, api_base: apiBase.trim() || undefined, api_version: apiVersion?.trim() || undefined },
    key ? key : old ? undefined : '',
  );
  ctx.log.info(`Connection ${name} (${kind.type}) saved`);
  void vscode.window.showInformationMessage(`Connection ${name} saved; runs of this workspace receive it.`);
}
