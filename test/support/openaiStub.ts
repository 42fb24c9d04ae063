import * as http from 'http';
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

/** The `usage` every chat answer of the stub carries (what a trace's LLM span must report). */
export const STUB_CHAT_USAGE = { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 };

/**
 * An OpenAI-compatible endpoint on 127.0.0.1 for the llm tool's tests: answers chat and completion calls
 * with an echo of the last message (JSON for a message of parts), embeddings with [input length, 0.5],
 * 401 for a wrong key, and never answers a deployment named "slow".
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
      res.writeHead(200, { 'content-type': 'application/json' });
      if ((req.url ?? '').includes('/chat/completions')) {
        const messages = (body.messages as { role: string; content: unknown }[]) ?? [];
        const content = messages[messages.length - 1]?.content ?? '';
        const last = typeof content === 'string' ? content : JSON.stringify(content);
        res.end(
          JSON.stringify({
            id: 'x',
            object: 'chat.completion',
            model: typeof body.model === 'string' ? body.model : 'stub-deployed-model',
            choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: `echo: ${last}` } }],
            usage: STUB_CHAT_USAGE,
          }),
        );
      } else if ((req.url ?? '').includes('/embeddings')) {
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
