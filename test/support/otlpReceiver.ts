import * as http from 'http';
import type { AddressInfo } from 'net';
import type { OtlpSpan, OtlpTraces } from '../../src/core/runs/otlp';

export interface OtlpReceiver {
  /** e.g. http://127.0.0.1:4318-like, without the /v1/traces path (as the setting takes it) */
  url: string;
  /** every export received: path, content type and the raw body */
  requests: { path: string; contentType: string; body: string }[];
  /** the spans of every export, in order */
  spans(): OtlpSpan[];
  close(): Promise<void>;
}

/** An OTLP/HTTP collector on 127.0.0.1 that keeps what it is sent and answers 200 to POST /v1/traces (JSON). */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const requests: OtlpReceiver['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      requests.push({
        path: req.url ?? '',
        contentType: String(req.headers['content-type'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const ok = req.method === 'POST' && req.url === '/v1/traces';
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
      res.end(ok ? '{"partialSuccess":{}}' : '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    spans: () =>
      requests.flatMap((r) => (JSON.parse(r.body) as OtlpTraces).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The value of a span attribute as its JSON shape holds it (intValue as a number). */
export function attr(span: OtlpSpan, key: string): string | number | boolean | undefined {
  const v = span.attributes.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue));
}
