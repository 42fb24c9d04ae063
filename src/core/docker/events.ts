import type { Readable } from 'stream';
import type { EngineEvent, EventSubscription } from './engine';

interface RawEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
}

/**
 * Follows the engine's event stream and reconnects when it drops (engine restart, network), resuming from
 * the last event seen so nothing is missed. The state callback lets the UI show the engine as unavailable.
 */
export function subscribeEvents(
  open: (since?: number) => Promise<Readable>,
  onEvent: (e: EngineEvent) => void,
  onState?: (connected: boolean) => void,
): EventSubscription {
  let disposed = false;
  let current: Readable | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastTime: number | undefined;
  let backoff = 250;
  let connected: boolean | undefined;
  const setConnected = (c: boolean) => {
    if (connected !== c) {
      connected = c;
      onState?.(c);
    }
  };

  const retry = () => {
    current = undefined;
    if (disposed) return;
    setConnected(false);
    timer = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 5000);
  };

  const connect = async () => {
    timer = undefined;
    if (disposed) return;
    let stream: Readable;
    try {
      stream = await open(lastTime);
    } catch {
      retry();
      return;
    }
    if (disposed) {
      stream.destroy();
      return;
    }
    current = stream;
    backoff = 250;
    setConnected(true);
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        try {
          const raw = JSON.parse(line) as RawEvent;
          const attrs = raw.Actor?.Attributes ?? {};
          if (raw.time) lastTime = raw.time;
          onEvent({
            type: raw.Type ?? '',
            action: raw.Action ?? raw.status ?? '',
            id: raw.Actor?.ID ?? raw.id ?? '',
            labels: attrs,
            time: raw.time ?? 0,
          });
        } catch {
          // a torn line after a reconnect is not worth failing the stream for
        }
      }
    });
    let ended = false;
    const onEnd = () => {
      if (ended) return;
      ended = true;
      retry();
    };
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onEnd);
  };

  void connect();
  return {
    dispose() {
      disposed = true;
      if (timer) clearTimeout(timer);
      current?.destroy();
    },
  };
}
