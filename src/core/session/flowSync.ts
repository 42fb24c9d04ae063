import * as fs from 'fs';
import * as path from 'path';
import type { Engine } from '../docker/engine';
import { FlowSessionError } from '../errors';
import { readFlowEnvironment, type FlowEnvironment } from '../flow/environment';
import { hashBuffer, hashFile } from '../fs/fileHash';
import { listFlowFiles, streamFlowFiles, type FlowFile } from '../fs/flowArchive';
import { entryOf, isEmptyPlan, nextEntries, planSync, type SyncPlan } from '../fs/syncPlan';
import { IMAGE_PATHS } from '../image/runtimeFiles';
import { Methods, type ManifestEntry, type SyncFilesParams, type SyncManifest } from '../runtime/protocol';
import type { RuntimeClient } from '../runtime/client';
import type { SessionProgress } from './state';
import { findSessionContainer, sessionKey } from './labels';
import type { RuntimeSupervisor } from './runtimeSupervisor';

/** up to this size, files go to the session through the runtime (milliseconds) instead of an engine archive copy */
const PROTOCOL_COPY_LIMIT = 8 * 1024 * 1024;
/** a request to the runtime about the session's files that gets no answer (a frozen runtime) gives up after this */
const SYNC_REQUEST_TIMEOUT_MS = 30_000;
/** a big copy reports the bytes sent this often */
const PROGRESS_INTERVAL_MS = 500;
/** the manifest version this side writes and reads (the runtime stores it as given) */
const MANIFEST_VERSION = 1;
/** another process may sync the same session between our diff and our change; we diff again this often */
const CONFLICT_RETRIES = 3;

type Applied = { manifest: SyncManifest } | { conflict: true; manifest: SyncManifest | null };

/**
 * Keeps each session's copy of its flow folder exactly the flow files listed now: what changed is copied, what is
 * gone is removed. The session keeps the manifest of what it holds, so any process (a new CLI call, a reloaded
 * window) reads it once and sends only the difference; small changes go over the runtime, big ones as a streamed
 * engine archive.
 */
export class FlowSync {
  /** the manifest of each session's copy as this process last saw it, by session key */
  private readonly held = new Map<string, SyncManifest>();

  constructor(
    private readonly engine: Engine,
    private readonly runtimes: RuntimeSupervisor,
    /** one line per sync that reads the session's manifest or changes its files (debug output) */
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /**
   * Brings the session's flow folder to the flow files listed now. `reread`: do not trust what this process
   * remembers of it (the session was restarted); the session's own manifest decides what is copied.
   */
  async copyFlow(id: string, env: FlowEnvironment, reread: boolean, onProgress?: SessionProgress): Promise<void> {
    const key = sessionKey(env.flowDir);
    if (reread) this.held.delete(key);
    await this.sync(key, id, env, new Set(), onProgress);
  }

  /** Copies what changed in the flow folder into its running session (and removes what is gone), when it has one. */
  async syncFlow(env: FlowEnvironment): Promise<void> {
    const key = sessionKey(env.flowDir);
    const id = await this.runningContainer(key);
    if (id) await this.sync(key, id, env, new Set());
  }

  /** Syncs the flow into its running session after a save of one of its files, which is compared by content. */
  async syncFile(flowDir: string, relPath: string): Promise<void> {
    const rel = relPath.split(path.sep).join('/');
    const rest = path.relative(flowDir, path.resolve(flowDir, rel));
    if (rest === '' || rest.startsWith('..') || path.isAbsolute(rest))
      throw new FlowSessionError(
        'bad-input',
        `${relPath} is outside the flow folder.`,
        'Only files of the flow folder are copied into the session.',
      );
    const key = sessionKey(flowDir);
    const id = await this.runningContainer(key);
    if (id) await this.sync(key, id, readFlowEnvironment(flowDir), new Set([rest.split(path.sep).join('/')]));
  }

  private async runningContainer(key: string): Promise<string | undefined> {
    const live = this.runtimes.containerOf(key);
    if (live && this.runtimes.live(key, live)) return live;
    const c = await findSessionContainer(this.engine, key);
    return c?.running ? c.id : undefined;
  }

  private async sync(key: string, id: string, env: FlowEnvironment, recheck: Set<string>, onProgress?: SessionProgress): Promise<void> {
    const runtime = this.runtimes.live(key, id) ?? (await this.runtimes.start(key, id));
    const files = listFlowFiles(env.flowDir, env.additionalIncludes);
    let held = this.held.get(key);
    const read = held?.container !== id;
    if (read) held = proven((await runtime.request(Methods.syncState, {}, { timeoutMs: SYNC_REQUEST_TIMEOUT_MS })).manifest, id);
    for (let attempt = 1; ; attempt++) {
      const plan = await planSync(files, held?.entries ?? {}, hashFile, recheck);
      if (held && isEmptyPlan(plan)) {
        if (read) this.log(`flow sync ${key.slice(0, 8)}: the session holds the ${files.length} flow files; nothing sent`);
        this.held.set(key, held);
        return;
      }
      const applied = await this.apply(runtime, id, held, plan, onProgress);
      if (!('conflict' in applied)) {
        this.log(describe(key, held, plan));
        this.held.set(key, applied.manifest);
        return;
      }
      if (attempt >= CONFLICT_RETRIES)
        throw new FlowSessionError(
          'runtime-crashed',
          'The flow files in the session kept changing while this sync ran (another window or command syncs the same session).',
          'Try again once the other sync is done.',
        );
      held = proven(applied.manifest, id);
    }
  }

  /** Carries out a plan against the manifest it was made from (none: the session's folder starts over). */
  private async apply(
    runtime: RuntimeClient,
    id: string,
    held: SyncManifest | undefined,
    plan: SyncPlan,
    onProgress?: SessionProgress,
  ): Promise<Applied> {
    const base = held?.generation ?? null;
    const entries = held?.entries ?? {};
    const files = plan.send.filter((f) => !f.dir);
    const dirs = plan.send.filter((f) => f.dir).map((f) => f.name);
    const record: Record<string, ManifestEntry> = { ...plan.restamp };
    for (const d of dirs) record[d] = { dir: true };
    const request = (params: Omit<SyncFilesParams, 'container'>) =>
      runtime.request(Methods.syncFiles, { container: id, ...params }, { timeoutMs: SYNC_REQUEST_TIMEOUT_MS });
    const done = (generation: number, all: Record<string, ManifestEntry>): Applied => ({
      manifest: {
        version: MANIFEST_VERSION,
        container: id,
        generation,
        entries: nextEntries(base === null ? {} : entries, plan.remove, all),
      },
    });

    if (files.reduce((n, f) => n + f.size, 0) <= PROTOCOL_COPY_LIMIT) {
      const payload = files.map((f) => {
        const content = readOrEmpty(f.abs);
        record[f.name] = entryOf(f, hashBuffer(content));
        return { path: f.name, content: content.toString('base64') };
      });
      const r = await request({ base, remove: plan.remove, dirs, files: payload, record });
      return r.conflict ? r : done(r.generation, record);
    }
    // big: removals, folders and the new stamps first (the files about to come are not proven until they are in)
    const first = await request({ base, remove: plan.remove, dirs, forget: files.map((f) => f.name), record });
    if (first.conflict) return first;
    const sent = await this.copyArchive(id, files, onProgress);
    for (const f of files) record[f.name] = entryOf(f, sent.get(f.name)!);
    const r = await request({ base: first.generation, record: pick(record, files) });
    return r.conflict ? r : done(r.generation, record);
  }

  /** Streams files into the session's flow folder through the engine, reporting the bytes sent; their hashes. */
  private async copyArchive(id: string, files: FlowFile[], onProgress?: SessionProgress): Promise<Map<string, string>> {
    const total = files.reduce((n, f) => n + f.size, 0);
    let sent = 0;
    let reportedAt = 0;
    const { tar, hashes } = streamFlowFiles(files, (n) => {
      sent += n;
      const now = Date.now();
      if (!onProgress || (now - reportedAt < PROGRESS_INTERVAL_MS && sent < total)) return;
      reportedAt = now;
      const percent = Math.floor((sent / total) * 100);
      onProgress({ message: `Copying the flow files into the session: ${megabytes(sent)} of ${megabytes(total)}`, percent });
    });
    const [, result] = await Promise.all([this.engine.putArchive(id, IMAGE_PATHS.flow, tar), hashes]);
    return result;
  }
}

function pick(record: Record<string, ManifestEntry>, files: FlowFile[]): Record<string, ManifestEntry> {
  return Object.fromEntries(files.map((f) => [f.name, record[f.name]]));
}

/** The session's manifest when it is this container's, in the version this side writes; otherwise nothing is proven. */
function proven(manifest: SyncManifest | null, id: string): SyncManifest | undefined {
  return manifest && manifest.version === MANIFEST_VERSION && manifest.container === id ? manifest : undefined;
}

function readOrEmpty(abs: string): Buffer {
  try {
    return fs.readFileSync(abs);
  } catch {
    return Buffer.alloc(0); // gone since it was listed: the next sync removes it
  }
}

function describe(key: string, held: SyncManifest | undefined, plan: SyncPlan): string {
  const files = plan.send.filter((f) => !f.dir);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const how = held ? 'the difference' : 'a full copy';
  const restamped = Object.keys(plan.restamp).length;
  return `flow sync ${key.slice(0, 8)}: ${how}: sent ${files.length} files (${bytes} bytes), removed ${plan.remove.length}, restamped ${restamped}`;
}

function megabytes(n: number): string {
  return `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}
