/**
 * Issue 11, point 10 against the real engine: a flow that shares files with a sibling flow by symlinks (prompt flow's
 * `flow-with-symlinks` example) runs with the links' content in the session, a link out of the workspace is refused
 * with its reason, and a misspelled node input is an error on its line that run refuses the same way.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { configureIncludeRoots, includeRootsConfig, type IncludeRootsConfig } from '../../src/core/flow/includeScope';
import type { RunService } from '../../src/core/runs/runService';
import type { SessionManager } from '../../src/core/session/sessionManager';
import type { FlowValidator } from '../../src/core/validation/flowValidator';
import { json, runCli } from '../support/cli';
import { makeFlow } from '../support/flows/fixtures';
import { within } from '../support/waiting';
import { testServices } from '../support/world/manager';

const SHARED_FLOW = {
  'flow.dag.yaml': `inputs:
  name:
    type: string
    default: World
outputs:
  greeting:
    type: string
    reference: \${shout.output}
nodes:
- name: hello
  type: python
  source:
    type: code
    path: hello.py
  inputs:
    name: \${inputs.name}
- name: shout
  type: prompt
  source:
    type: code
    path: shout.jinja2
  inputs:
    text: \${hello.output}
`,
  'hello.py': `from promptflow import tool


@tool
def hello(name: str, punctuation: str = "!") -> str:
    return "Hello, " + name + punctuation
`,
  'shout.jinja2': 'SHARED {{ text }}',
};

describe('symlinked flow files and misspelled node inputs', function () {
  this.timeout(300_000);
  let manager: SessionManager;
  let validator: FlowValidator;
  let runs: RunService;
  let saved: IncludeRootsConfig;
  // a workspace folder holding two flows, and a secret outside it
  const workspace = makeFlow({}, 'flowsession-ws-');
  const outside = makeFlow({ 'secret.txt': 'flowsession-test OUTSIDE SECRET' }, 'flowsession-outside-');
  const original = path.join(workspace, 'web-classification');
  const linked = path.join(workspace, 'flow-with-symlinks');
  const flows: string[] = [original, linked];

  before(() => {
    ({ manager, validator, runs } = testServices());
    saved = includeRootsConfig();
    // as VS Code configures it: the workspace folder that holds the flow
    configureIncludeRoots({ ...saved, containerOf: (flowDir) => (flowDir.startsWith(`${workspace}${path.sep}`) ? workspace : undefined) });
    for (const [rel, content] of Object.entries(SHARED_FLOW)) {
      fs.mkdirSync(original, { recursive: true });
      fs.writeFileSync(path.join(original, rel), content);
    }
    // prompt flow's create_symlinks.py: every file of the other flow, linked by a relative path
    fs.mkdirSync(linked);
    for (const name of Object.keys(SHARED_FLOW)) fs.symlinkSync(path.join('..', 'web-classification', name), path.join(linked, name));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(linked, 'secret.txt'));
  });

  after(async () => {
    configureIncludeRoots(saved);
    for (const f of flows) await manager.remove(f).catch(() => undefined);
    manager.dispose();
    for (const d of [workspace, outside]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('follows links inside the workspace, copies their content, and refuses the one that leaves it with the reason', async () => {
    const report = await within('validate with a session', 240_000, validator.validate(linked, { session: 'start' }));
    assert.strictEqual(report.sessionChecked, true);
    assert.deepStrictEqual(
      report.problems.filter((p) => p.severity === 'error'),
      [],
    );
    const refused = report.problems.filter((p) => p.code === 'SymlinkOutsideScope');
    assert.strictEqual(refused.length, 1, JSON.stringify(report.problems));
    assert.match(refused[0].message, /secret\.txt.*points to .*secret\.txt, outside the workspace folder.*allowedIncludeRoots/);
    assert.strictEqual(refused[0].severity, 'warning');

    const status = await manager.status(linked);
    const listing = await manager.engine.exec(status.container!, ['find', '/flow', '-maxdepth', '1', '-type', 'f', '-printf', '%f\\n']);
    assert.deepStrictEqual(listing.stdout.split('\n').filter(Boolean).sort(), ['flow.dag.yaml', 'hello.py', 'shout.jinja2']);
    const links = await manager.engine.exec(status.container!, ['find', '/flow', '-type', 'l']);
    assert.strictEqual(links.stdout.trim(), '', 'links arrive as files');
    const leaked = await manager.engine.exec(status.container!, ['grep', '-r', '-l', 'OUTSIDE SECRET', '/flow']);
    assert.strictEqual(leaked.stdout.trim(), '');

    const record = await within('a run', 120_000, runs.run(linked, { inputs: { name: 'links' } }));
    assert.strictEqual(record.status, 'Completed', JSON.stringify(record.error));
    assert.deepStrictEqual(record.outputs, { greeting: 'SHARED Hello, links!' });
  });

  it('refuses a node source linked out of the workspace, naming the target and the setting, from the CLI too', async () => {
    const lonely = makeFlow({ 'flow.dag.yaml': SHARED_FLOW['flow.dag.yaml'], 'shout.jinja2': SHARED_FLOW['shout.jinja2'] });
    flows.push(lonely);
    fs.writeFileSync(path.join(outside, 'hello.py'), SHARED_FLOW['hello.py']);
    fs.symlinkSync(path.join(outside, 'hello.py'), path.join(lonely, 'hello.py'));
    const line = SHARED_FLOW['flow.dag.yaml'].split('\n').indexOf('    path: hello.py') + 1;
    const r = await runCli(['validate', lonely, '--static', '--json'], {});
    assert.strictEqual(r.code, 1, r.stderr);
    const errors = json<{ errors: { code: string; line: number; message: string }[] }>(r).errors;
    assert.deepStrictEqual(
      errors.map((e) => `${e.code}@${e.line}`),
      [`InvalidSource@${line}`],
    );
    assert.match(errors[0].message, new RegExp(`symlink hello\\.py points to ${outside}/hello\\.py, outside the workspace folder`));
    const record = await within('a refused run', 60_000, runs.run(lonely));
    assert.strictEqual(record.status, 'Failed');
    assert.strictEqual(record.error?.code, 'InvalidSource');
  });

  it('reports a misspelled node input as an error on its line naming the tool inputs, and run refuses it alike', async () => {
    const yaml = SHARED_FLOW['flow.dag.yaml'].replace('    name: ${inputs.name}\n', '    name: ${inputs.name}\n    punctuaton: "?"\n');
    const typo = makeFlow({ ...SHARED_FLOW, 'flow.dag.yaml': yaml });
    flows.push(typo);
    const report = await within('validate with a session', 240_000, validator.validate(typo, { session: 'start' }));
    assert.strictEqual(report.sessionChecked, true);
    const errors = report.problems.filter((p) => p.severity === 'error');
    assert.deepStrictEqual(
      errors.map((p) => `${p.code}@${p.file}:${p.line}`),
      [`UnknownNodeInput@flow.dag.yaml:${yaml.split('\n').indexOf('    punctuaton: "?"') + 1}`],
    );
    assert.match(errors[0].message, /Input 'punctuaton' for node 'hello'.*'name', 'punctuation'.*Did you mean 'punctuation'\?/);

    const record = await within('a refused run', 60_000, runs.run(typo));
    assert.strictEqual(record.status, 'Failed');
    assert.strictEqual(record.error?.code, 'UnknownNodeInput');
    assert.strictEqual(record.error?.message, errors[0].message);

    const cli = await runCli(['validate', typo, '--json'], {});
    assert.strictEqual(cli.code, 1, cli.stderr);
    assert.deepStrictEqual(
      json<{ errors: { code: string }[] }>(cli).errors.map((e) => e.code),
      ['UnknownNodeInput'],
    );
  });
});
