import * as assert from 'assert';
import type * as vscode from 'vscode';
import { ConnectionStore } from '../../../src/ui/connections';
import { CustomImageStore } from '../../../src/ui/customImageStore';

function memento(): vscode.Memento & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  return {
    data,
    keys: () => [...data.keys()],
    get: <T>(key: string, fallback?: T) => (data.has(key) ? (data.get(key) as T) : fallback) as T,
    update: async (key: string, value: unknown) => void data.set(key, value),
  } as vscode.Memento & { data: Map<string, unknown> };
}

function secrets(): vscode.SecretStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get: async (k: string) => data.get(k),
    store: async (k: string, v: string) => void data.set(k, v),
    delete: async (k: string) => void data.delete(k),
    onDidChange: (() => ({ dispose() {} })) as never,
  } as unknown as vscode.SecretStorage & { data: Map<string, string> };
}

describe('ConnectionStore', () => {
  it('keeps keys in SecretStorage only and gives runs the full connections', async () => {
    const state = memento();
    const secret = secrets();
    const store = new ConnectionStore(state, secret);
    await store.set(
      { name: 'aoai', type: 'AzureOpenAIConnection', api_base: 'https://x.openai.azure.com/', api_version: '2024-02-01' },
      { api_key: 'sk-secret' },
    );
    assert.ok(!JSON.stringify([...state.data.values()]).includes('sk-secret'), 'the key is not in workspaceState');
    assert.deepStrictEqual(JSON.parse(secret.data.get('flowsession.connectionSecrets.aoai') ?? ''), { api_key: 'sk-secret' });
    const run = await store.forRun();
    assert.strictEqual(run.aoai.api_key, 'sk-secret');
    assert.strictEqual(run.aoai.type, 'AzureOpenAIConnection');
  });

  it('keeps the stored key when it is not given again, and removes both parts', async () => {
    const store = new ConnectionStore(memento(), secrets());
    await store.set({ name: 'c', type: 'OpenAIConnection' }, { api_key: 'k1' });
    await store.set({ name: 'c', type: 'OpenAIConnection', api_base: 'http://localhost:1/v1' }, {});
    assert.strictEqual((await store.forRun()).c.api_key, 'k1');
    assert.strictEqual(store.list().length, 1);
    await store.remove('c');
    assert.deepStrictEqual(await store.forRun(), {});
  });

  it("reads an older workspace's single key as the api_key, and moves it on the next save", async () => {
    const state = memento();
    const secret = secrets();
    state.data.set('flowsession.connections', [{ name: 'old', type: 'CustomConnection', api_base: 'https://b' }]);
    secret.data.set('flowsession.connection.old', 'sk-old');
    const store = new ConnectionStore(state, secret);
    assert.deepStrictEqual((await store.forRun()).old, {
      type: 'CustomConnection',
      configs: { api_base: 'https://b' },
      secrets: { api_key: 'sk-old' },
    });
    await store.set(
      { name: 'old', type: 'CustomConnection', configs: { api_base: 'https://b' }, secretNames: ['api_key', 'extra'] },
      { extra: 'sk-x' },
    );
    assert.strictEqual(secret.data.has('flowsession.connection.old'), false);
    assert.deepStrictEqual((await store.forRun()).old.secrets, { api_key: 'sk-old', extra: 'sk-x' });
    assert.deepStrictEqual(store.shapes(), { old: { type: 'CustomConnection' } });
    assert.ok(!JSON.stringify([...state.data.values()]).includes('sk-'), 'no secret in workspaceState');
  });
});

describe('CustomImageStore', () => {
  it('records published images for Change Base Image…', async () => {
    const store = new CustomImageStore(memento());
    await store.add({ ref: 'reg.io/a:1', pushed: true, publishedAt: 't1' });
    await store.add({ ref: 'local/b:1', pushed: false, publishedAt: 't2' });
    assert.deepStrictEqual(
      store.list().map((r) => r.ref),
      ['local/b:1', 'reg.io/a:1'],
    );
    await store.remove('local/b:1');
    assert.deepStrictEqual(
      store.list().map((r) => r.ref),
      ['reg.io/a:1'],
    );
  });
});
