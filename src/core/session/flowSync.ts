import * as fs from 'fs';
import * as path from 'path';
import type { Engine } from '../docker/engine';
import { FlowSessionError } from '../errors';
import type { FlowEnvironment } from '../flow/environment';
import { fileArchive, listFlowFiles, packFlowFiles, SyncedFiles } from '../fs/flowArchive';
import { outputTail } from '../image/recipe';
import { IMAGE_PATHS, SESSION_USER } from '../image/runtimeFiles';
import { Methods } from '../runtime/protocol';
import { findSessionContainer, sessionKey } from './labels';
import type { RuntimeSupervisor } from './runtimeSupervisor';

/** up to this size, files go to the session through the runtime (milliseconds) instead of an engine archive copy */
const PROTOCOL_COPY_LIMIT = 8 * 1024 * 1024;
/** a file copy over the runtime's protocol that gets no answer (a frozen runtime) gives up after this */
const WRITE_FILES_TIMEOUT_MS = 30_000;
const CLEAR_FOLDER_PY =
  'import os, shutil, sys\nfor n in os.listdir(sys.argv[1]):\n    p = os.path.join(sys.argv[1], n)\n    shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)';

/**
 * Keeps each session's copy of its flow folder current: all of it after a start, then what changed. Files go over
 * the connected runtime when they are small, through an engine archive otherwise.
 */
export class FlowSync {
  /** what each session's container already holds of its flow folder, by container */
  private readonly synced = new Map<string, { container: string; files: SyncedFiles }>();

  constructor(
    private readonly engine: Engine,
    private readonly runtimes: RuntimeSupervisor,
  ) {}

  /** Copies the flow folder into the session: all of it (replacing what is there) or what changed since the last copy. */
  async copyFlow(id: string, env: FlowEnvironment, replace: boolean): Promise<void> {
    const key = sessionKey(env.flowDir);
    let record = this.synced.get(key);
    if (replace || !record || record.container !== id) {
      record = { container: id, files: new SyncedFiles() };
      this.synced.set(key, record);
    }
    const files = listFlowFiles(env.flowDir, env.additionalIncludes);
    const changed = record.files.changed(files);
    if (changed.length === 0 && !replace) return;
    const live = this.runtimes.live(key, id);
    const small = changed.reduce((n, f) => n + f.size, 0) <= PROTOCOL_COPY_LIMIT;
    if (live && small) {
      await live.request(
        Methods.writeFiles,
        {
          clear: replace,
          files: changed.filter((f) => !f.dir).map((f) => ({ path: f.name, content: fs.readFileSync(f.abs).toString('base64') })),
        },
        { timeoutMs: WRITE_FILES_TIMEOUT_MS },
      );
    } else {
      if (replace) {
        const r = await this.engine.exec(id, [IMAGE_PATHS.python, '-c', CLEAR_FOLDER_PY, IMAGE_PATHS.flow], { user: SESSION_USER });
        if (r.exitCode !== 0)
          throw new FlowSessionError(
            'runtime-crashed',
            `Could not refresh the flow files in the session: ${outputTail(r, 3)}`,
            'Reset the session.',
          );
      }
      await this.engine.putArchive(id, IMAGE_PATHS.flow, await packFlowFiles(changed));
    }
    record.files.record(changed);
  }

  /** Copies what changed in the flow folder into its session, when it has one. */
  async syncFlow(env: FlowEnvironment): Promise<void> {
    const key = sessionKey(env.flowDir);
    const id = this.runtimes.containerOf(key) ?? (await findSessionContainer(this.engine, key))?.id;
    if (!id) return;
    await this.copyFlow(id, env, false);
  }

  /** Copies one file of the flow folder into its running session: over the runtime when it is connected (a few ms). */
  async syncFile(flowDir: string, relPath: string): Promise<void> {
    const key = sessionKey(flowDir);
    const rel = relPath.split(path.sep).join('/');
    const live = this.runtimes.live(key);
    const abs = path.resolve(flowDir, rel);
    if (live && fs.statSync(abs).size <= PROTOCOL_COPY_LIMIT) {
      if (path.relative(flowDir, abs).startsWith('..'))
        throw new FlowSessionError(
          'bad-input',
          `${relPath} is outside the flow folder.`,
          'Only files of the flow folder are copied into the session.',
        );
      await live.request(
        Methods.writeFiles,
        { files: [{ path: rel, content: fs.readFileSync(abs).toString('base64') }] },
        { timeoutMs: WRITE_FILES_TIMEOUT_MS },
      );
      return;
    }
    const c = await findSessionContainer(this.engine, key);
    if (!c?.running) return;
    await this.engine.putArchive(c.id, IMAGE_PATHS.flow, await fileArchive(flowDir, rel));
  }
}
