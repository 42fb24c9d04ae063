import { promises as fsp } from 'fs';
import * as path from 'path';

export interface RunSummary {
  runId: string;
  dir: string;
  kind: 'run' | 'batch';
  status: string;
  /** ms since epoch (the run folder's modification time) */
  time: number;
  /** the file to open for it */
  mainFile?: string;
}

/** The newest runs of a flow from `<flow>/.promptflow/runs/` (what RunService writes), newest first. */
export async function recentRuns(flowDir: string, limit = 10): Promise<RunSummary[]> {
  const root = path.join(flowDir, '.promptflow', 'runs');
  let names: string[];
  try {
    names = await fsp.readdir(root);
  } catch {
    return [];
  }
  const runs: RunSummary[] = [];
  for (const runId of names) {
    const dir = path.join(root, runId);
    try {
      const st = await fsp.stat(dir);
      if (st.isDirectory()) runs.push({ runId, dir, kind: 'run', status: 'Unknown', time: st.mtimeMs });
    } catch {
      // vanished meanwhile
    }
  }
  runs.sort((a, b) => b.time - a.time || b.runId.localeCompare(a.runId));
  const newest = runs.slice(0, limit);
  for (const r of newest) await fillStatus(r);
  return newest;
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

async function fillStatus(r: RunSummary): Promise<void> {
  const summary = (await readJson(path.join(r.dir, 'summary.json'))) as { status?: string } | undefined;
  if (summary) {
    r.kind = 'batch';
    r.status = typeof summary.status === 'string' ? summary.status : 'Unknown';
    r.mainFile = path.join(r.dir, 'output.jsonl');
    return;
  }
  const detail = (await readJson(path.join(r.dir, 'flow.detail.json'))) as { flow_runs?: { status?: string }[] } | undefined;
  const status = detail?.flow_runs?.[0]?.status;
  if (typeof status === 'string') r.status = status;
  for (const name of ['flow.output.json', 'flow.detail.json', 'flow.log']) {
    try {
      await fsp.access(path.join(r.dir, name));
      r.mainFile = path.join(r.dir, name);
      return;
    } catch {
      // next
    }
  }
}
