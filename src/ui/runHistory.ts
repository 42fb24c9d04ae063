import { mainFileOf, readRunHistory } from '../core/runs/runHistory';

/** A run of the history as the sessions tree shows it. */
export interface RunSummary {
  runId: string;
  dir: string;
  kind: 'run' | 'batch';
  status: string;
  /** ms since epoch */
  time: number;
  /** the file to open for it */
  mainFile?: string;
}

/** The newest runs of a flow, newest first. */
export async function recentRuns(flowDir: string, limit = 10): Promise<RunSummary[]> {
  return (await readRunHistory(flowDir, limit)).map((run) => ({
    runId: run.runId,
    dir: run.dir,
    kind: run.kind,
    status: run.status,
    time: Date.parse(run.time),
    mainFile: mainFileOf(run),
  }));
}
