import type * as vscode from 'vscode';
import type { ProgressReport } from '../../core/docker/progress';
import type { Ctx } from '../ctx';
import type { OnSaveValidation } from '../diagnostics/onSaveValidation';
import type { FlowIndex } from '../flowIndex';
import type { PanelServices } from '../panel/panelServices';
import type { ViewRefresh } from '../viewRefresh';

/** What the command handlers work with; built once by the composition root. */
export interface CommandDeps {
  ctx: Ctx;
  index: FlowIndex;
  validation: OnSaveValidation;
  /** the one owner of view refreshes: commands ask it, they never refresh a view themselves */
  views: ViewRefresh;
  panel: () => PanelServices;
  /** session work started by a command, for the panel's progress */
  progress: vscode.EventEmitter<{ flowDir: string; report: ProgressReport }>;
}
