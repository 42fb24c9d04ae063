import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkFlowStatic, checkFlowText } from '../../../../src/core/flow/staticChecks';
import { listProbe } from '../../../../src/core/flow/sources';
import { FlowProblem } from '../../../../src/core/flow/problem';

function pyNode(name: string, inputs: Record<string, string>, extra = ''): string {
  const ins = Object.entries(inputs)
    .map(([k, v]) => `    ${k}: ${v}`)
    .join('\n');
  return `- name: ${name}\n  type: python\n  source:\n    type: code\n    path: ${name}.py\n  inputs:\n${ins || '    {}'}\n${extra}`;
}

function check(yaml: string, files: string[] = []): FlowProblem[] {
  const names = [...yaml.matchAll(/path: (\S+)/g)].map((m) => m[1]);
  return checkFlowText(yaml, listProbe([...names, ...files]));
}

const codes = (ps: FlowProblem[]) => ps.map((p) => `${p.code}@${p.line}:${p.column}`);

describe('checkFlowText', () => {
  it('names a duplicate on its second name value', () => {
    const ps = check(`nodes:\n${pyNode('a', {})}${pyNode('a', {})}`);
    assert.deepStrictEqual(codes(ps), ['DuplicateNodeName@9:9']);
    assert.match(ps[0].message, /Node with name 'a' appears more than once/);
  });

  it('names the sorted nodes of a cycle, placed on the nodes on it, including activate edges', () => {
    const yaml = `nodes:\n${pyNode('zeta', { x: '${alpha.output}' })}${pyNode('alpha', { x: 'hi' }, '  activate:\n    when: ${zeta.output.flag}\n    is: true\n')}${pyNode('after', { x: '${zeta.output}' })}${pyNode('free', {})}`;
    const ps = check(yaml);
    assert.deepStrictEqual(codes(ps), ['NodeCircularDependency@2:9', 'NodeCircularDependency@9:9']);
    assert.match(ps[0].message, /for the nodes \['after', 'alpha', 'zeta'\] and resolve/);
  });

  it('finds a self reference', () => {
    assert.deepStrictEqual(codes(check(`nodes:\n${pyNode('a', { x: '${a.output}' })}`)), ['NodeCircularDependency@2:9']);
  });

  it('places a bad reference on its own scalar, and treats embedded or nested ones as literals', () => {
    const yaml = `inputs:\n  q:\n    type: string\nnodes:\n${pyNode('a', { x: '${inputs.nope}', y: '"text ${inputs.nope}"', z: '["${ghost.output}"]', w: '${ghost.output.deep}' })}`;
    const ps = check(yaml);
    assert.deepStrictEqual(codes(ps), ['InputReferenceNotFound@11:8', 'NodeReferenceNotFound@14:8']);
    assert.deepStrictEqual([ps[0].endLine, ps[0].endColumn], [11, 22]);
  });

  it('checks every variant and builds the graph from the default one', () => {
    const yaml = [
      'nodes:',
      '- name: w',
      '  use_variants: true',
      '- name: x',
      '  type: python',
      '  source: {type: code, path: x.py}',
      '  inputs: {a: "${w.output}"}',
      'node_variants:',
      '  w:',
      '    default_variant_id: v0',
      '    variants:',
      '      v0:',
      '        node:',
      '          type: prompt',
      '          source: {type: code, path: w.jinja2}',
      '          inputs: {t: "${inputs.t}"}',
      '      v1:',
      '        node:',
      '          type: prompt',
      '          source: {type: code, path: w1.jinja2}',
      '          inputs: {t: "${x.output}"}',
      '',
    ].join('\n');
    const ps = checkFlowText(yaml, listProbe(['x.py', 'w.jinja2']));
    assert.deepStrictEqual(codes(ps), ['InputReferenceNotFound@16:23', 'InvalidSource@20:38']);
  });

  it('resolves sources through additional_includes by base name, files and folders', () => {
    const yaml = `nodes:\n${pyNode('a', {})}- name: b\n  type: python\n  source: {type: code, path: lib/b.py}\n- name: c\n  type: python\n  source: {type: code, path: lib/nope.py}\nadditional_includes:\n- ../shared/a.py\n- ../../common/lib\n- ../gone\n`;
    const ps = checkFlowText(yaml, listProbe([], ['../shared/a.py', '../../common/lib/b.py']));
    assert.deepStrictEqual(codes(ps), ['InvalidSource@14:30', 'FlowDefinitionError@18:3']);
    assert.match(ps[1].message, /Unable to find additional include \.\.\/gone/);
  });

  it('rejects a source that climbs out of the flow folder', () => {
    const ps = checkFlowText(`nodes:\n- name: a\n  type: python\n  source: {type: code, path: ../x.py}\n`, listProbe([], ['../x.py']));
    assert.deepStrictEqual(codes(ps), ['InvalidSource@4:30']);
    assert.match(ps[0].message, /outside the flow folder/);
  });

  it('accepts package tools without a file and requires a tool for them', () => {
    const ok = checkFlowText('nodes:\n- name: a\n  type: python\n  source: {type: package, tool: my_pkg.tools.search}\n', listProbe([]));
    assert.deepStrictEqual(ok, []);
  });

  it('checks a 50-node chain with activate conditions without a false problem', () => {
    const nodes = Array.from({ length: 50 }, (_, i) =>
      pyNode(
        `n${i}`,
        i ? { x: `\${n${i - 1}.output}`, q: '${inputs.q}' } : { q: '${inputs.q}' },
        i % 5 ? '' : `  activate:\n    when: \${inputs.q}\n    is: go\n`,
      ),
    );
    const yaml = `inputs:\n  q:\n    type: string\noutputs:\n  out:\n    type: string\n    reference: \${n49.output}\nnodes:\n${nodes.join('')}`;
    const probe = listProbe(Array.from({ length: 50 }, (_, i) => `n${i}.py`));
    assert.deepStrictEqual(checkFlowText(yaml, probe), []);
    // its speed is a figure of `npm run bench` (static_checks_50_nodes), not a test
  });
});

describe('checkFlowStatic on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowsession-static-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const flow = (p: string) => `nodes:\n- name: a\n  type: python\n  source:\n    type: code\n    path: ${p}\n`;

  it('rejects a symlink that escapes the flow folder', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'flowsession-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'secret.py'), 'x = 1\n');
      fs.mkdirSync(path.join(dir, 'flow'));
      fs.symlinkSync(path.join(outside, 'secret.py'), path.join(dir, 'flow', 'tool.py'));
      fs.symlinkSync(outside, path.join(dir, 'flow', 'linked'));
      fs.symlinkSync(outside, path.join(dir, 'flow', 'data'));
      fs.symlinkSync(outside, path.join(dir, 'flow', '.venv')); // never copied: not reported
      fs.writeFileSync(
        path.join(dir, 'flow', 'flow.dag.yaml'),
        flow('tool.py') + '- name: b\n  type: python\n  source: {type: code, path: linked/secret.py}\n',
      );
      const ps = await checkFlowStatic(path.join(dir, 'flow'));
      assert.deepStrictEqual(codes(ps), ['InvalidSource@6:11', 'InvalidSource@9:30', 'SymlinkOutsideScope@1:1']);
      assert.match(ps[0].message, /the symlink tool\.py points to .*secret\.py, outside the workspace folder/);
      assert.match(ps[2].message, /The symlink data of the flow folder points to .*flowsession-outside-.*allowedIncludeRoots/);
      assert.strictEqual(ps[2].severity, 'warning');
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('accepts a symlink that stays inside the flow folder', async () => {
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'real.py'), 'x = 1\n');
    fs.symlinkSync(path.join(dir, 'src', 'real.py'), path.join(dir, 'tool.py'));
    fs.writeFileSync(path.join(dir, 'flow.dag.yaml'), flow('tool.py'));
    assert.deepStrictEqual(await checkFlowStatic(dir), []);
  });

  it('reports a folder named as a source, a missing flow file, and an over-large one', async () => {
    fs.mkdirSync(path.join(dir, 'pkg'));
    fs.writeFileSync(path.join(dir, 'flow.dag.yaml'), flow('pkg'));
    assert.deepStrictEqual(codes(await checkFlowStatic(dir)), ['InvalidSource@6:11']);
    fs.rmSync(path.join(dir, 'flow.dag.yaml'));
    assert.deepStrictEqual(codes(await checkFlowStatic(dir)), ['FlowDefinitionError@1:1']);
    fs.writeFileSync(path.join(dir, 'flow.dag.yaml'), Buffer.alloc(6 * 1024 * 1024, 0x23));
    assert.deepStrictEqual(codes(await checkFlowStatic(dir)), ['YamlParseError@1:1']);
  });
});
