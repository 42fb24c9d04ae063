import * as path from 'path';
import * as vscode from 'vscode';
import { debuggableNodes, nodesUsingFile } from '../../core/debug/nodeSources';
import { DEBUG_TYPE } from '../debug/flowDebugging';
import { resolveFlow, type FlowArg } from '../flowIndex';
import type { CommandDeps } from './commandDeps';
import { askInputs } from './runCommands';

const isInputs = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function startDebugging(flowDir: string, config: { name: string; node?: string; inputs: Record<string, unknown> }): Thenable<boolean> {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(flowDir));
  return vscode.debug.startDebugging(folder, { type: DEBUG_TYPE, request: 'launch', flow: flowDir, ...config });
}

/** Debug Flow…: the flow's inputs (asked, unless a caller gives them), then a flowsession debug session. */
export async function debugFlow(d: CommandDeps, arg: FlowArg, inputs?: unknown): Promise<void> {
  const flowDir = await resolveFlow(d.index, arg, 'Debug which flow?');
  if (!flowDir) return;
  const given = isInputs(inputs) ? inputs : await askInputs(flowDir, 'Debug');
  if (!given) return;
  await startDebugging(flowDir, { name: `Debug ${path.basename(flowDir)}`, inputs: given });
}

/**
 * Debug Node: one node alone, as `run --node` runs it (inputs given, else the flow's defaults and the latest run's
 * outputs). The node is the one whose source is in the editor, else the user's pick.
 */
export async function debugNode(d: CommandDeps, arg: FlowArg, node?: unknown, inputs?: unknown): Promise<void> {
  const flowDir = await resolveFlow(d.index, arg, 'Debug a node of which flow?');
  if (!flowDir) return;
  let name = typeof node === 'string' && node ? node : undefined;
  if (!name) {
    const { analyzeFlowDir } = await import('../../core/flow/staticChecks');
    const flow = (await analyzeFlowDir(flowDir)).parsed.value;
    const file = arg instanceof vscode.Uri ? arg.fsPath : vscode.window.activeTextEditor?.document.uri.fsPath;
    const here = file ? nodesUsingFile(flow, flowDir, file) : [];
    name =
      here.length === 1
        ? here[0]
        : (
            await vscode.window.showQuickPick(
              (here.length ? debuggableNodes(flow).filter((n) => here.includes(n.name)) : debuggableNodes(flow)).map((n) => ({
                label: n.name,
                description: [n.type, n.source].filter(Boolean).join(' · '),
              })),
              { placeHolder: `Debug which node of ${path.basename(flowDir)}?` },
            )
          )?.label;
  }
  if (!name) return;
  await startDebugging(flowDir, { name: `Debug ${path.basename(flowDir)}: ${name}`, node: name, inputs: isInputs(inputs) ? inputs : {} });
}
