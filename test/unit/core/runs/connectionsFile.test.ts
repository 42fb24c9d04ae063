import * as assert from 'assert';
import * as path from 'path';
import { readConnectionsFile } from '../../../../src/core/runs/connectionsFile';
import { makeFlow } from '../../../support/flows/fixtures';

describe('the connections file', () => {
  it('reads a connections file with secrets from the environment only', () => {
    const dir = makeFlow({
      'c.yaml':
        '- name: aoai\n  type: azure_open_ai\n  api_base: https://x.example\n  api_key: ${env:MY_KEY}\n- name: raw\n  type: custom\n  secrets:\n    token: ${env:MY_KEY}\n',
    });
    const c = readConnectionsFile(path.join(dir, 'c.yaml'), { MY_KEY: 'k-123' });
    assert.deepStrictEqual(c.aoai, { type: 'AzureOpenAIConnection', api_base: 'https://x.example', api_key: 'k-123' });
    assert.deepStrictEqual(c.raw, { type: 'CustomConnection', secrets: { token: 'k-123' } });
    assert.throws(() => readConnectionsFile(path.join(dir, 'c.yaml'), {}), /needs the environment variable MY_KEY/);
  });
});
