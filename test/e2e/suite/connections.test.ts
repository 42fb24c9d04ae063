/**
 * Mode A (extension host): "Set Connection…" for every connection type through the real command (its input
 * boxes and pick list answered by the test), then "Run Flow" of a flow whose python tool takes all of them:
 * the tool receives each as prompt flow's class with its fields and secret, the connections equal what the
 * CLI reads from prompt flow's connection files, and no result file holds the secret. The session this suite
 * creates is removed in `after`.
 */
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FlowSessionApi } from '../../../src/extension';
import { readConnections } from '../../../src/core/runs/connectionsFile';
import { connectionTypeByClass } from '../../../src/core/runs/connectionTypes';

const EXTENSION_ID = 'flowsession.flowsession';
const SECRET = 'sk-e2e-conn-61c0d8a4f3';
const SHA = crypto.createHash('sha256').update(SECRET).digest('hex');
/** the fixture in the repo (the extension under test is developed from the repo) */
const fixture = () => path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'test', 'fixtures', 'connections');

type InputOptions = vscode.InputBoxOptions;
type Item = vscode.QuickPickItem;

/** The answers of one "Set Connection…": the box title's last word (field name) → answer; the type's class. */
interface Script {
  name: string;
  kind: string;
  fields: Record<string, string>;
}

/** Reads a prompt flow connection file of the fixture into wizard answers (secrets become SECRET). */
function scriptsFromFixture(): Script[] {
  const specs = readConnections([path.join(fixture(), 'connections')], { FS_TEST_SECRET: SECRET });
  return Object.entries(specs).map(([name, spec]) => {
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(spec)) if (typeof v === 'string' && k !== 'type') fields[k] = v;
    if (spec.type === 'CustomConnection') {
      fields.configs = Object.entries(spec.configs ?? {})
        .map(([k, v]) => `${k}=${String(v)}`)
        .join('; ');
      fields['secret names'] = Object.keys(spec.secrets ?? {}).join(', ');
      Object.assign(fields, spec.secrets);
    }
    return { name, kind: spec.custom_type ? 'strong' : spec.type, fields };
  });
}

async function api(): Promise<FlowSessionApi> {
  const ext = vscode.extensions.getExtension<FlowSessionApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  return ext.isActive ? ext.exports : ext.activate();
}

describe('Set Connection… for every type, and a run that receives them', function () {
  this.timeout(600_000);
  let a: FlowSessionApi;
  let flowDir: string;
  const win = vscode.window as unknown as Record<string, unknown>;
  const replaced = ['showInputBox', 'showQuickPick', 'showInformationMessage', 'showWarningMessage', 'showErrorMessage'];
  const original = Object.fromEntries(replaced.map((k) => [k, win[k]]));
  let script: Script | undefined;
  const asked: { title: string; password: boolean }[] = [];

  before(async () => {
    a = await api();
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(root, 'a workspace folder');
    flowDir = path.join(root, 'connection-types');
    fs.mkdirSync(flowDir, { recursive: true });
    for (const f of ['flow.dag.yaml', 'conns.py']) fs.copyFileSync(path.join(fixture(), f), path.join(flowDir, f));
    // the editor's boxes answer from the script of the connection being set; the run's input box gives the hash
    win.showInputBox = async (o: InputOptions) => {
      const title = o.title ?? '';
      asked.push({ title, password: !!o.password });
      if (title.includes('input secret_sha256')) return SHA;
      if (!script) return undefined;
      if (title.endsWith(': name')) return script.name;
      const field =
        title
          .replace(/ \(secret\)$/, '')
          .split(': ')
          .pop() ?? '';
      const answer = script.fields[field] ?? o.value ?? '';
      const problem = await o.validateInput?.(answer);
      assert.ok(!problem, `${title}: ${String(problem)}`);
      return answer;
    };
    win.showQuickPick = async (items: readonly Item[]) =>
      items.find((i) => (script?.kind === 'strong' ? i.label === 'Custom strong type' : i.description === script?.kind));
    // notifications resolve at once (the smoke-test driver hides them; a command awaiting one would never end)
    for (const k of ['showInformationMessage', 'showWarningMessage', 'showErrorMessage']) win[k] = async () => undefined;
  });

  after(async () => {
    Object.assign(win, original);
    if (!a || !flowDir) return;
    const { manager } = await a.ctx.services();
    await manager.remove(flowDir).catch(() => undefined);
    // the folder this suite added to the workspace goes with it: later suites see the workspace as it was
    fs.rmSync(flowDir, { recursive: true, force: true });
  });

  it('saves every type through the command, secrets in secret storage, and runs get what the CLI gives', async () => {
    const scripts = scriptsFromFixture();
    assert.strictEqual(scripts.length, 12);
    for (const s of scripts) {
      script = s;
      await vscode.commands.executeCommand('flowsession.setConnection');
    }
    script = undefined;
    assert.ok(
      asked.filter((q) => /api_key/.test(q.title)).every((q) => q.password),
      'every api_key is asked in a password box',
    );
    const fromEditor = await a.ctx.connections.forRun();
    const fromCli = readConnections([path.join(fixture(), 'connections')], { FS_TEST_SECRET: SECRET });
    // the editor also keeps the fields a file may leave out, at the type's defaults
    assert.deepStrictEqual(Object.keys(fromEditor).sort(), Object.keys(fromCli).sort());
    for (const [name, cli] of Object.entries(fromCli)) {
      const editor = fromEditor[name];
      const defaults = Object.fromEntries((connectionTypeByClass(cli.type)?.fields ?? []).map((f) => [f.name, f.default]));
      for (const [k, v] of Object.entries(editor)) assert.deepStrictEqual(v, k in cli ? cli[k] : defaults[k], `${name}.${k}`);
      for (const k of Object.keys(cli)) assert.ok(k in editor, `${name}.${k} is set in the editor too`);
    }
    assert.ok(!JSON.stringify(a.ctx.connections.list()).includes(SECRET), 'the listed connections hold no secret');
  });

  it('Run Flow gives the tool each connection as prompt flow does; the result files hold no secret', async () => {
    await vscode.commands.executeCommand('flowsession.runFlow', flowDir);
    const out = JSON.parse(fs.readFileSync(path.join(flowDir, '.promptflow', 'flow.output.json'), 'utf8')) as {
      report: Record<string, { class: string; key_arrived: boolean; attribute_key_arrived: boolean; api_base?: string }>;
    };
    assert.strictEqual(Object.keys(out.report).length, 12);
    for (const [k, v] of Object.entries(out.report)) {
      assert.strictEqual(v.key_arrived, true, `${k}: the secret arrived`);
      assert.strictEqual(v.attribute_key_arrived, true, `${k}: as an attribute too`);
    }
    assert.strictEqual(out.report.local.class, 'LocalConnection');
    assert.strictEqual(out.report.local.api_base, 'https://local.example');
    assert.strictEqual(out.report.safety.class, 'AzureContentSafetyConnection');
    const walk = (d: string): string[] =>
      fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    for (const f of walk(path.join(flowDir, '.promptflow'))) assert.ok(!fs.readFileSync(f, 'utf8').includes(SECRET), `no secret in ${f}`);
  });
});
