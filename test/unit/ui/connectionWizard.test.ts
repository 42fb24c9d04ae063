import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type * as vscode from 'vscode';
import { readConnectionsFile } from '../../../src/core/runs/connectionsFile';
import { CONNECTION_TYPES } from '../../../src/core/runs/connectionTypes';
import { ConnectionStore } from '../../../src/ui/connections';
import { askConnection, type Prompter } from '../../../src/ui/connectionWizard';
import { makeFlow } from '../../support/flows/fixtures';

const SECRET = 'sk-wizard-2c8e71f0';

/** SecretStorage and workspaceState as plain maps. */
function store() {
  const state = new Map<string, unknown>();
  const secrets = new Map<string, string>();
  const memento = {
    keys: () => [...state.keys()],
    get: <T>(key: string, fallback?: T) => (state.has(key) ? (state.get(key) as T) : fallback) as T,
    update: async (key: string, value: unknown) => void state.set(key, value),
  } as unknown as vscode.Memento;
  const storage = {
    get: async (k: string) => secrets.get(k),
    store: async (k: string, v: string) => void secrets.set(k, v),
    delete: async (k: string) => void secrets.delete(k),
    onDidChange: (() => ({ dispose() {} })) as never,
  } as unknown as vscode.SecretStorage;
  return { state, secrets, connections: new ConnectionStore(memento, storage) };
}

interface Asked {
  title: string;
  password?: boolean;
  value?: string;
}

/** Answers the wizard's boxes by the end of their title (the field they ask for); records what was asked. */
function prompter(answers: Record<string, string>, pickType: string, strong = false): Prompter & { asked: Asked[] } {
  const asked: Asked[] = [];
  return {
    asked,
    input: async (o) => {
      asked.push({ title: o.title, password: o.password, value: o.value });
      const key = Object.keys(answers).find((k) => o.title.endsWith(`: ${k}`) || o.title.endsWith(`: ${k} (secret)`));
      const answer = key === undefined ? (o.value ?? '') : answers[key];
      const problem = o.validate?.(answer);
      if (problem) throw new Error(`${o.title}: ${problem}`);
      return answer;
    },
    pick: async (items, o) => {
      asked.push({ title: o.title });
      return items.find(
        (i) =>
          (i as unknown as { description: string }).description === pickType ||
          (strong && (i as { label: string }).label === 'Custom strong type'),
      );
    },
  };
}

const SAMPLE: Record<string, string> = {
  api_base: 'https://base.example',
  endpoint: 'https://endpoint.example',
  base_url: 'https://url.example/v1',
  organization: 'org-7',
  api_version: '2030-01-01',
};

describe('Set Connection…', () => {
  it('offers every prompt flow type, asks its fields (secrets in password boxes), and runs get what the CLI gives', async () => {
    for (const t of CONNECTION_TYPES.filter((c) => c.className !== 'CustomConnection')) {
      const { state, secrets, connections } = store();
      const answers: Record<string, string> = { name: `c_${t.yamlType}` };
      const yaml = [`name: c_${t.yamlType}`, `type: ${t.yamlType}`];
      for (const f of t.fields) {
        const value = f.secret ? SECRET : (SAMPLE[f.name] ?? f.default ?? `v-${f.name}`);
        answers[f.name] = value;
        yaml.push(`${f.name}: ${f.secret ? '${env:K}' : JSON.stringify(value)}`);
      }
      const p = prompter(answers, t.className);
      const answer = await askConnection(p, [], async () => []);
      assert.ok(answer, t.className);
      await connections.set(answer.meta, answer.secrets);
      const fromEditor = (await connections.forRun())[`c_${t.yamlType}`];
      const dir = makeFlow({ 'c.yaml': `${yaml.join('\n')}\n` });
      const fromCli = readConnectionsFile(path.join(dir, 'c.yaml'), { K: SECRET })[`c_${t.yamlType}`];
      assert.deepStrictEqual(fromEditor, fromCli, t.className);
      for (const f of t.fields) {
        const box = p.asked.find((a) => a.title.includes(`: ${f.name}`));
        assert.ok(box, `${t.className} asks for ${f.name}`);
        assert.strictEqual(!!box.password, !!f.secret, `${t.className}.${f.name} secret box`);
      }
      assert.ok(!JSON.stringify([...state.values()]).includes(SECRET), `${t.className}: no secret in workspaceState`);
      assert.ok(
        [...secrets.values()].some((v) => v.includes(SECRET)),
        `${t.className}: the secret is in SecretStorage`,
      );
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sets a custom connection with its own configs and secrets, and a custom strong type by class and module', async () => {
    const { state, connections } = store();
    const custom = await askConnection(
      prompter(
        {
          name: 'my_custom',
          configs: 'region=north; url=https://x.example/?a=b',
          'secret names': 'api_key, token',
          api_key: SECRET,
          token: `${SECRET}-2`,
        },
        'CustomConnection',
      ),
      [],
      async () => [],
    );
    assert.ok(custom);
    await connections.set(custom.meta, custom.secrets);
    const strong = await askConnection(
      prompter(
        {
          name: 'my_local',
          custom_type: 'LocalConnection',
          module: 'conns',
          configs: 'api_base=https://local.example',
          'secret names': 'api_key',
          api_key: SECRET,
        },
        '',
        true,
      ),
      connections.list(),
      async () => [],
    );
    assert.ok(strong);
    await connections.set(strong.meta, strong.secrets);
    const dir = makeFlow({
      'custom.yml':
        'name: my_custom\ntype: custom\nconfigs:\n  region: north\n  url: https://x.example/?a=b\nsecrets:\n  api_key: ${env:K}\n  token: ${env:K2}\n',
      'local.yml':
        'name: my_local\ntype: custom\ncustom_type: LocalConnection\nmodule: conns\nconfigs:\n  api_base: https://local.example\nsecrets:\n  api_key: ${env:K}\n',
    });
    const cli = {
      ...readConnectionsFile(path.join(dir, 'custom.yml'), { K: SECRET, K2: `${SECRET}-2` }),
      ...readConnectionsFile(path.join(dir, 'local.yml'), { K: SECRET }),
    };
    assert.deepStrictEqual(await connections.forRun(), cli);
    assert.deepStrictEqual(connections.shapes(), {
      my_custom: { type: 'CustomConnection' },
      my_local: { type: 'CustomConnection', custom_type: 'LocalConnection', module: 'conns' },
    });
    assert.ok(!JSON.stringify([...state.values()]).includes(SECRET));
  });

  it('keeps stored secrets when left empty, refuses a missing required field, and stops on cancel', async () => {
    const { connections } = store();
    const first = await askConnection(
      prompter({ name: 'aoai', api_base: 'https://a.example', api_key: SECRET }, 'AzureOpenAIConnection'),
      [],
      async () => [],
    );
    assert.ok(first);
    await connections.set(first.meta, first.secrets);
    const p = prompter({ name: 'aoai', api_version: '2031-01-01', api_key: '' }, 'AzureOpenAIConnection');
    const again = await askConnection(p, connections.list(), async (n) => Object.keys(await connections.secretsOf(n)));
    assert.ok(again);
    assert.strictEqual(p.asked.find((a) => a.title.endsWith(': api_base'))?.value, 'https://a.example', 'the stored field is offered');
    await connections.set(again.meta, again.secrets);
    const spec = (await connections.forRun()).aoai;
    assert.strictEqual(spec.api_key, SECRET);
    assert.strictEqual(spec.api_version, '2031-01-01');
    await assert.rejects(
      askConnection(prompter({ name: 'x', endpoint: '' }, 'AzureContentSafetyConnection'), [], async () => []),
      /needs its api_key|endpoint/,
    );
    const cancelled: Prompter = { input: async (o) => (o.title.endsWith(': name') ? 'x' : undefined), pick: async (items) => items[0] };
    assert.strictEqual(await askConnection(cancelled, [], async () => []), undefined);
  });
});
