import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import type { AddressInfo } from 'net';

export interface StubRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface OpenAiStub {
  url: string;
  requests: StubRequest[];
  /**
   * While on, a streamed answer sends every chunk but its last and then waits for `release()`: a test sees what
   * reached its reader while the answer was still being produced.
   */
  holdLastChunk(on: boolean): void;
  /** sends the held last chunks (and ends those answers) */
  release(): void;
  /** how many streamed answers wait for `release()` */
  readonly held: number;
  close(): Promise<void>;
}

/** `text` in the pieces a streamed answer sends: the first word alone, then each following word with its leading space. */
export function streamPieces(text: string): string[] {
  return text.split(/(?= )/).filter((p) => p !== '');
}

/** The `usage` every chat answer of the stub carries (what a trace's LLM span must report). */
export const STUB_CHAT_USAGE = { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 };

/**
 * An OpenAI-compatible endpoint on 127.0.0.1 for the llm tool's tests: answers chat and completion calls
 * with an echo of the last message (JSON for a message of parts), embeddings with [input length, 0.5],
 * 401 for a wrong key, and never answers a deployment named "slow". With `stream: true` the same answer comes as
 * server-sent events as the real API sends them: `chat.completion.chunk` (or `text_completion`) deltas, a last
 * chunk with `finish_reason`, a usage chunk when `stream_options.include_usage`, then `data: [DONE]`.
 * `delayMs`: every answer comes that much later (a model's latency, for LLM-bound batches). A GET of
 * `/images/<name>` answers STUB_PNG (image inputs given as URLs).
 * A chat call with `response_format: {type: json_object}` gets `{"answer": <echo>, "length": <its length>}` as its
 * content.
 */
/** the image the stub serves under /images/ */
export const STUB_PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('stub image')]);

export async function startOpenAiStub(validKey: string, options: { delayMs?: number } = {}): Promise<OpenAiStub> {
  const requests: StubRequest[] = [];
  let holding = false;
  const waiting: (() => void)[] = [];
  const sse = (res: http.ServerResponse, body: Record<string, unknown>, chat: boolean, answer: string) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const base = {
      id: 'chatcmpl-stub',
      object: chat ? 'chat.completion.chunk' : 'text_completion',
      created: 0,
      model: String(body.model ?? 'stub'),
    };
    const usage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    const send = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      res.write(`data: ${JSON.stringify({ ...base, choices, ...(usage ? { usage: null } : {}), ...extra })}\n\n`);
    const piece = (text: string, finish: string | null = null) =>
      chat
        ? { index: 0, delta: text === '' && finish ? {} : { content: text }, finish_reason: finish }
        : { index: 0, text, finish_reason: finish };
    if (chat) send([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
    const pieces = streamPieces(answer);
    for (const p of pieces.slice(0, -1)) send([piece(p)]);
    const finish = () => {
      if (pieces.length) send([piece(pieces[pieces.length - 1])]);
      send([piece('', 'stop')]);
      if (usage) send([], { usage: { prompt_tokens: 1, completion_tokens: pieces.length, total_tokens: pieces.length + 1 } });
      res.end('data: [DONE]\n\n');
    };
    if (holding) waiting.push(finish);
    else finish();
  };
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && (req.url ?? '').startsWith('/images/')) {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': STUB_PNG.length });
      res.end(STUB_PNG);
      return;
    }
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => (options.delayMs ? setTimeout(answer, options.delayMs) : answer()));
    const answer = () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw || '{}');
      } catch {
        // keep the empty body: the test reads what arrived
      }
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      const key = req.headers['api-key'] ?? String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (key !== validKey) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } }),
        );
        return;
      }
      if ((req.url ?? '').includes('/deployments/slow/') || body.model === 'slow') return; // never answers
      if ((req.url ?? '').includes('/chat/completions')) {
        const messages = (body.messages as { role: string; content: unknown }[]) ?? [];
        const content = messages[messages.length - 1]?.content ?? '';
        const last = typeof content === 'string' ? content : JSON.stringify(content);
        const format = body.response_format as { type?: string } | undefined;
        const reply = format?.type === 'json_object' ? JSON.stringify({ answer: `echo: ${last}`, length: last.length }) : `echo: ${last}`;
        if (body.stream === true) return sse(res, body, true, reply);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'x',
            object: 'chat.completion',
            model: typeof body.model === 'string' ? body.model : 'stub-deployed-model',
            choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: reply } }],
            usage: STUB_CHAT_USAGE,
          }),
        );
      } else if ((req.url ?? '').includes('/embeddings')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        const input = String(body.input ?? '');
        res.end(JSON.stringify({ object: 'list', data: [{ index: 0, object: 'embedding', embedding: [input.length, 0.5] }] }));
      } else if (body.stream === true) {
        sse(res, body, false, `completed: ${String(body.prompt ?? '').trim()}`);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'y',
            object: 'text_completion',
            choices: [{ index: 0, finish_reason: 'stop', text: `completed: ${String(body.prompt ?? '').trim()}` }],
          }),
        );
      }
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    holdLastChunk: (on) => {
      holding = on;
    },
    release: () => {
      for (const finish of waiting.splice(0)) finish();
    },
    get held() {
      return waiting.length;
    },
    close: () =>
      new Promise((resolve) => {
        for (const finish of waiting.splice(0)) finish();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A connections file (the CLI's `--connections`) naming the stub as `aoai` (Azure) and `oai` (OpenAI), the key from TEST_LLM_KEY. */
export function stubConnectionsYaml(url: string, more = ''): string {
  return `- name: aoai
  type: azure_open_ai
  api_base: ${url}
  api_version: 2024-02-01
  api_key: \${env:TEST_LLM_KEY}
- name: oai
  type: open_ai
  base_url: ${url}/v1
  api_key: \${env:TEST_LLM_KEY}
${more}`;
}

/** The stub with a connections file naming it (`aoai`, `oai`) in a folder of `jar`: what the llm suites start with. */
export async function startStubWithConnections(
  key: string,
  jar: { make(files: Record<string, string>): string },
): Promise<{ stub: OpenAiStub; connectionsFile: string }> {
  const stub = await startOpenAiStub(key);
  const connectionsFile = path.join(jar.make({}), 'connections.yaml');
  fs.writeFileSync(connectionsFile, stubConnectionsYaml(stub.url));
  return { stub, connectionsFile };
}
