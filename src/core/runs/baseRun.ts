/**
 * A run named on the command line (`--run`, `run show-metrics`): its folder, found by path or by id, and, for an
 * evaluation batch, its lines as the runtime reads them (`{"line_number", "inputs", "outputs"}`).
 */
import { promises as fsp } from 'fs';
import * as fs from 'fs';
import * as path from 'path';
import { FlowSessionError } from '../errors';
import { loadImages } from './imageFiles';
import { BATCH_FILES, isRunId, runFolder } from './runStore';

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function subfolders(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => path.join(dir, d.name));
  } catch {
    return [];
  }
}

/**
 * The folder of a run given by its folder or its id. An id is looked for in the run history of the flows near
 * where it is used (prompt flow keeps one history for every flow; here each flow keeps its own): the flow
 * given, the flows next to it, the current folder and the flows in it.
 */
export function findRunFolder(ref: string, near: { flowDir?: string; cwd?: string } = {}): string {
  const asPath = path.resolve(near.cwd ?? process.cwd(), ref);
  if (isDir(asPath) && (ref.includes('/') || ref.includes(path.sep) || !isRunId(ref))) return asPath;
  if (isRunId(ref)) {
    const cwd = near.cwd ?? process.cwd();
    const flows = [...(near.flowDir ? [near.flowDir, ...subfolders(path.dirname(near.flowDir))] : []), cwd, ...subfolders(cwd)];
    for (const flow of flows) {
      const dir = runFolder(flow, ref);
      if (isDir(dir)) return dir;
    }
    if (isDir(asPath)) return asPath;
  }
  throw new FlowSessionError(
    'bad-input',
    `Run not found: ${ref}`,
    'Give the run folder (<flow>/.promptflow/runs/<run id>), or the id of a run of a flow in the current folder or next to the flow.',
  );
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown)
    .filter((v): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v));
}

/** output.jsonl's line of a failed line: only its number and the error */
function isFailedLine(row: Record<string, unknown>): boolean {
  const keys = Object.keys(row);
  return keys.length === 2 && keys.includes('error') && typeof row.error === 'object' && row.error !== null;
}

/**
 * A batch's lines for an evaluation batch of it, one JSON document per line: the outputs of each line that
 * completed and the inputs of each line, by line number, as `${run.outputs.x}` and `${run.inputs.x}` read them.
 */
export async function baseRunLines(runDir: string): Promise<string> {
  let outputs: string;
  try {
    outputs = await fsp.readFile(path.join(runDir, BATCH_FILES.output), 'utf8');
  } catch {
    throw new FlowSessionError(
      'bad-input',
      `The run ${runDir} has no ${BATCH_FILES.output}: it is not a finished batch run.`,
      'Give a batch run (flowsession batch) that finished; its folder holds output.jsonl.',
    );
  }
  const lines = new Map<number, { line_number: number; inputs?: unknown; outputs?: unknown }>();
  const at = (n: number) => lines.get(n) ?? lines.set(n, { line_number: n }).get(n)!;
  let inputs = '';
  try {
    inputs = await fsp.readFile(path.join(runDir, BATCH_FILES.inputs), 'utf8');
  } catch {
    // a batch run made before inputs were kept: only ${run.outputs.x} can be read
  }
  try {
    for (const row of jsonLines(outputs)) {
      const { line_number: n, ...rest } = row;
      // images the base run stored as its files go to the session as images
      if (typeof n === 'number' && !isFailedLine(row)) at(n).outputs = loadImages(rest, runDir, runDir);
    }
    for (const row of jsonLines(inputs)) {
      const { line_number: n, ...rest } = row;
      if (typeof n === 'number') at(n).inputs = loadImages(rest, runDir, runDir);
    }
  } catch (e) {
    throw new FlowSessionError('bad-input', `The run ${runDir} has unreadable results: ${(e as Error).message}`, 'Run its batch again.');
  }
  return [...lines.values()].map((l) => JSON.stringify(l)).join('\n') + '\n';
}
