import * as assert from 'assert';
import { connectionSpec, checkApiBase, checkConnectionName, upsertConnection } from '../../../src/ui/connectionSpec';

describe('connections', () => {
  it('puts the key where each connection type expects it', () => {
    assert.deepStrictEqual(
      connectionSpec(
        { name: 'c', type: 'AzureOpenAIConnection', api_base: 'https://x.openai.azure.com/', api_version: '2024-02-01' },
        { api_key: 'k' },
      ),
      { type: 'AzureOpenAIConnection', api_key: 'k', api_base: 'https://x.openai.azure.com/', api_version: '2024-02-01' },
    );
    assert.deepStrictEqual(
      connectionSpec({ name: 'c', type: 'OpenAIConnection', api_base: 'http://localhost:1234/v1' }, { api_key: 'k' }),
      {
        type: 'OpenAIConnection',
        api_key: 'k',
        api_base: 'http://localhost:1234/v1',
        base_url: 'http://localhost:1234/v1',
      },
    );
    assert.deepStrictEqual(connectionSpec({ name: 'c', type: 'CustomConnection' }, { api_key: 'k' }), {
      type: 'CustomConnection',
      secrets: { api_key: 'k' },
      configs: {},
    });
  });
  it('validates names and endpoints', () => {
    assert.strictEqual(checkConnectionName('open_ai_connection'), undefined);
    assert.ok(checkConnectionName('bad name'));
    assert.ok(checkApiBase('', true));
    assert.strictEqual(checkApiBase('', false), undefined);
    assert.ok(checkApiBase('ftp://x', false));
    assert.strictEqual(checkApiBase('https://x.openai.azure.com/', true), undefined);
  });
  it('replaces a connection by name', () => {
    const l = upsertConnection(upsertConnection([], { name: 'b', type: 'OpenAIConnection' }), { name: 'a', type: 'CustomConnection' });
    assert.deepStrictEqual(
      upsertConnection(l, { name: 'b', type: 'CustomConnection' }).map((c) => `${c.name}:${c.type}`),
      ['a:CustomConnection', 'b:CustomConnection'],
    );
  });
});
