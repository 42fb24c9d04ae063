import * as v8 from 'v8';
import * as vm from 'vm';

/** after this many bytes streamed, the buffers they were read into are collected */
const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;

let collect: (() => void) | undefined;

/**
 * V8 collects spent buffers only once tens of megabytes of them piled up, later still on a busy machine, which
 * would take a copy of a big file past the memory a small one needs; asking for a collection every few tens of
 * megabytes keeps it flat, for a few milliseconds each.
 */
function collector(): () => void {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  return collect;
}

/** A counter of streamed bytes that has the spent buffers collected every COLLECT_EVERY_BYTES. */
export function spentBufferCollector(): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < COLLECT_EVERY_BYTES) return;
    since = 0;
    collector()();
  };
}
