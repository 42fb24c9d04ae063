import * as vscode from 'vscode';
import { askConnection, type Prompter } from '../connectionWizard';
import type { Ctx } from '../ctx';

/** vscode.window's input boxes and quick picks, kept open when focus moves (users copy keys from elsewhere). */
const prompter: Prompter = {
  input: (o) =>
    Promise.resolve(
      vscode.window.showInputBox({
        title: o.title,
        prompt: o.prompt,
        value: o.value,
        password: o.password,
        validateInput: o.validate,
        ignoreFocusOut: true,
      }),
    ),
  pick: (items, o) =>
    Promise.resolve(
      vscode.window.showQuickPick(
        items.map((i) => ({ ...i, picked: i === o.picked })),
        { title: o.title, ignoreFocusOut: true },
      ),
    ).then((chosen) => items.find((i) => i.label === chosen?.label)),
};

/** Set Connection…: every prompt flow connection type with its fields; secrets go to secret storage only. */
export async function setConnection(ctx: Ctx): Promise<void> {
  const answer = await askConnection(prompter, ctx.connections.list(), async (name) => Object.keys(await ctx.connections.secretsOf(name)));
  if (!answer) return;
  await ctx.connections.set(answer.meta, answer.secrets);
  const { name, type, custom_type } = answer.meta;
  ctx.log.info(`Connection ${name} (${custom_type ?? type}) saved`);
  void vscode.window.showInformationMessage(`Connection ${name} saved; runs of this workspace receive it.`);
}
