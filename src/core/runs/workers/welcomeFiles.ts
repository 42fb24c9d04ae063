import * as fs from 'fs';
import * as path from 'path';
import { FlowSessionError } from '../../errors';
import { readFlowEnvironment } from '../../flow/environment';
import { listFlowFiles, type FlowFile } from '../../fs/flowArchive';
import { MAX_FRAME_BYTES } from './workerProtocol';

/** room in the welcome frame for the flow itself and the JSON around the files */
const WELCOME_SLACK_BYTES = 1024 * 1024;

/**
 * The files of the flow folder the workers get in their welcome (with additional_includes). The batch's data file is
 * left out when it lies in the folder (prompt flow's examples keep `data.jsonl` there): workers get their lines by
 * lease, and a large data file would make the welcome larger than a worker reads. A folder that is still too large
 * is refused, naming its largest files; the orchestrated batch asks this before it builds, pushes or starts anything,
 * so the user hears it at once instead of after the image work or from every worker.
 */
export function workerFlowFiles(flowDir: string, dataFile: string, limitBytes = MAX_FRAME_BYTES): FlowFile[] {
  const env = readFlowEnvironment(flowDir);
  const data = fs.realpathSync(path.resolve(dataFile));
  const files = listFlowFiles(env.flowDir, env.additionalIncludes).filter((f) => !f.dir && f.abs !== data);
  const bytes = files.reduce((n, f) => n + Math.ceil(f.size / 3) * 4 + f.name.length, 0);
  if (bytes + WELCOME_SLACK_BYTES > limitBytes) {
    const largest = [...files].sort((a, b) => b.size - a.size).slice(0, 3);
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    throw new FlowSessionError(
      'bad-input',
      `The flow folder is too large to send to batch workers: ${mb(bytes)} encoded, at most ${mb(limitBytes - WELCOME_SLACK_BYTES)}. ` +
        `Largest files: ${largest.map((f) => `${f.name} (${mb(f.size)})`).join(', ')}.`,
      'Move large files the flow does not read (data, models, archives) out of the flow folder, or run the batch in a session.',
    );
  }
  return files;
}

/** The flow folder as the workers get it in their welcome: workerFlowFiles, base64. */
export function welcomeFiles(flowDir: string, dataFile: string, limitBytes = MAX_FRAME_BYTES): { path: string; content: string }[] {
  return workerFlowFiles(flowDir, dataFile, limitBytes).map((f) => ({ path: f.name, content: fs.readFileSync(f.abs).toString('base64') }));
}
