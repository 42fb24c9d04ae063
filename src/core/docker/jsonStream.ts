import type { Readable } from 'stream';

/** One message of the engine's progress streams (pull, push, build). */
export interface EngineStreamMessage {
  id?: string;
  status?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: { ID?: string; Digest?: string; Tag?: string };
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Reads a newline-delimited JSON stream of the engine and fails with the first error it carries:
 * the engine answers 200 for a pull or a build and reports the failure inside the stream.
 */
export function followJsonStream(stream: Readable, onMessage: (m: EngineStreamMessage) => void): Promise<EngineStreamMessage[]> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let failed: string | undefined;
    const tail: EngineStreamMessage[] = [];
    const handle = (line: string) => {
      if (!line.trim()) return;
      let message: EngineStreamMessage;
      try {
        message = JSON.parse(line) as EngineStreamMessage;
      } catch {
        message = { stream: line };
      }
      if (message.error || message.errorDetail?.message) failed ??= message.errorDetail?.message || message.error;
      tail.push(message);
      if (tail.length > 50) tail.shift();
      onMessage(message);
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        handle(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    stream.on('error', reject);
    stream.on('end', () => {
      handle(buffered);
      if (failed) reject(new Error(failed));
      else resolve(tail);
    });
  });
}
