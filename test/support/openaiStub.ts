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
  close(): Promise<void>;
}

/**
 * An OpenAI-compatible endpoint on 127.0.0.1 for the llm tool's tests: answers chat and completion calls
 * with an echo of the last message (JSON for a message of parts), embeddings with [input length, 0.5],
 * 401 for a wrong key, and never answers a deployment named "slow". A chat call with
 * `response_format: {type: json_object}` gets `{"answer": <echo>, "length": <its length>}` as its content; one with
 * `stream: true` gets the echo as server-sent events, a word a chunk.
 */
export async function startOpenAiStub(validKey: string): Promise<OpenAiStub> {
  const requests: StubRequest[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
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
        const answer = format?.type === 'json_object' ? JSON.stringify({ answer: `echo: ${last}`, length: last.length }) : `echo: ${last}`;
        if (body.stream === true) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          for (const word of answer.match(/\S+\s*/g) ?? [])
            res.write(
              `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: word } }] })}\n\n`,
            );
          res.end('data: [DONE]\n\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'x',
            object: 'chat.completion',
            choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: answer } }],
            usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      if ((req.url ?? '').includes('/embeddings')) {
        const input = String(body.input ?? '');
        res.end(JSON.stringify({ object: 'list', data: [{ index: 0, object: 'embedding', embedding: [input.length, 0.5] }] }));
      } else {
        res.end(
          JSON.stringify({
            id: 'y',
            object: 'text_completion',
            choices: [{ index: 0, finish_reason: 'stop', text: `completed: ${String(body.prompt ?? '').trim()}` }],
          }),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
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
