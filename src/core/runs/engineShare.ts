import { packEntries } from '../docker/archive';
import type { Engine } from '../docker/engine';
import type { RuntimeClient } from '../runtime/client';
import { Methods } from '../runtime/protocol';

/** a share up to this size goes to its session over the runtime protocol */
const SHARE_OVER_PROTOCOL_BYTES = 4 * 1024 * 1024;
/** where such shares go, inside the session's copy of the flow folder (removed by the runtime after use) */
const SHARE_FOLDER = '.flowsession-batch';

/**
 * Puts the input lines of one share of a batch into the engine's session; returns the data path for the
 * runtime. A small share goes over the runtime (no engine archive round trip), a large one as an archive.
 */
export async function sendShare(
  engine: Engine,
  client: RuntimeClient,
  container: string,
  chunkId: string,
  lines: string[],
): Promise<string> {
  const dataName = `flowsession-data-${chunkId}.jsonl`;
  const content = Buffer.from(`${lines.join('\n')}\n`);
  if (content.length <= SHARE_OVER_PROTOCOL_BYTES) {
    const dataPath = `${SHARE_FOLDER}/${dataName}`;
    await client.request(Methods.writeFiles, { files: [{ path: dataPath, content: content.toString('base64') }] }, { timeoutMs: 60_000 });
    return dataPath;
  }
  await engine.putArchive(container, '/tmp', await packEntries([{ name: dataName, content }], 10001, 10001));
  return `/tmp/${dataName}`;
}

/**
 * Rejects when the engine stays silent past stallMs and then does not answer a ping; never resolves.
 * It stops watching once `done.settled` is set, and records in `done.lastOk` when a ping last answered.
 */
export function stallWatchdog(
  engine: Engine,
  stallMs: number,
  lastEvent: () => number,
  done: { settled: boolean; lastOk: number },
): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    let probing = false;
    const timer = setInterval(
      () => {
        if (done.settled) {
          clearInterval(timer);
          return;
        }
        if (probing || Date.now() - lastEvent() < stallMs) return;
        probing = true;
        engine.ping(5000).then(
          () => {
            probing = false;
            done.lastOk = Date.now();
          },
          (e) => {
            clearInterval(timer);
            reject(e);
          },
        );
      },
      Math.max(100, Math.min(stallMs / 2, 5000)),
    );
  });
}
