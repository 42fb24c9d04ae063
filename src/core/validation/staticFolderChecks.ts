import { promises as fsp } from 'fs';
import * as path from 'path';
import { analyzeFlexText, type FlexAnalysis } from '../flow/flexDocument';
import { fsProbe } from '../flow/sources';
import { definitionFileIn, promptyFilesIn } from '../flow/flowKind';
import type { FlowProblem } from '../flow/problem';
import { analyzePromptyText } from '../flow/promptyDocument';
import { analyzeFlowDir, type FlowAnalysis } from '../flow/staticChecks';

/** The static checks of a flow folder: its DAG or flex definition, and its .prompty files. */
export interface FolderAnalysis {
  dag?: FlowAnalysis;
  flex?: FlexAnalysis & { file: string };
  problems: FlowProblem[];
}

/** Runs every static check of a folder's flows (no session, no user code). Never rejects for a flow's content. */
export async function analyzeFlowFolder(dir: string): Promise<FolderAnalysis> {
  const def = definitionFileIn(dir);
  const out: FolderAnalysis = { problems: [] };
  if (def?.kind === 'dag') {
    out.dag = await analyzeFlowDir(dir);
    out.problems.push(...out.dag.problems);
  } else if (def?.kind === 'flex') {
    try {
      out.flex = { ...analyzeFlexText(await fsp.readFile(path.join(dir, def.file)), def.file, fsProbe(dir)), file: def.file };
      out.problems.push(...out.flex.problems);
    } catch {
      // removed while being read: the next save checks again
    }
  }
  out.problems.push(...(await staticPromptyProblems(dir)));
  return out;
}

/** The static problems of the .prompty files directly in a folder (front matter and role lines). */
export async function staticPromptyProblems(dir: string): Promise<FlowProblem[]> {
  const out: FlowProblem[] = [];
  for (const name of promptyFilesIn(dir)) {
    try {
      out.push(...analyzePromptyText(await fsp.readFile(path.join(dir, name), 'utf8'), name).problems);
    } catch {
      // removed while being read: the next save checks again
    }
  }
  return out;
}
