import * as http from 'http';
import type { AddressInfo } from 'net';

export interface LineGate {
  url: string;
  /** whether a request that opens the gate arrived before its time limit */
  opened: boolean;
  close(): Promise<void>;
}

/**
 * A loopback HTTP server that holds every request until one arrives that `opens(path, body)` accepts, then lets
 * them all through: answered 200 with an empty body, or forwarded to `forwardTo` (e.g. the OpenAI stub) with the
 * stub's answer passed back. A batch over two engines whose later lines open the gate cannot finish its first share
 * on one engine before the other engine has taken lines: the test sees both engines work without timing guesses.
 * After `limitMs` the gate opens anyway (and `opened` stays false), so nothing waits forever.
 */
export async function startLineGate(
  opens: (path: string, body: string) => boolean,
  forwardTo?: string,
  limitMs = 120_000,
): Promise<LineGate> {
  const held: (() => void)[] = [];
  let open = false;
  const gate = { opened: false };
  const release = () => {
    open = true;
    for (const go of held.splice(0)) go();
  };
  const timer = setTimeout(release, limitMs);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const pass = () => {
        if (!forwardTo) {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end();
          return;
        }
        const out = http.request(`${forwardTo}${req.url ?? ''}`, { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        out.on('error', () => {
          res.writeHead(502);
          res.end();
        });
        out.end(body);
      };
      if (!open && opens(req.url ?? '', body.toString('utf8'))) {
        gate.opened = true;
        clearTimeout(timer);
        release();
      }
      if (open) pass();
      else held.push(pass);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get opened() {
      return gate.opened;
    },
    close: () => {
      clearTimeout(timer);
      release();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
