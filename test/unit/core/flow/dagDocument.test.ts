import * as assert from 'assert';
import { MAX_FLOW_BYTES, parseFlowDocument, rangeOfPath, rangeOfYamlPath } from '../../../../src/core/flow/dagDocument';
import { checkFlowText } from '../../../../src/core/flow/staticChecks';
import { listProbe } from '../../../../src/core/flow/sources';

const FLOW = [
  'inputs:', //                         1
  '  q:', //                            2
  '    type: string', //                3
  'nodes:', //                          4
  '- name: a', //                       5
  '  type: python', //                  6
  '  inputs:', //                       7
  '    foo: "${inputs.q}"', //          8
  '    bar:', //                        9
  '- name: b', //                       10
  '  inputs: {x: 1}', //                11
  '',
].join('\n');

describe('rangeOfPath', () => {
  const parsed = parseFlowDocument(FLOW);

  it('places a scalar on its own text, end exclusive, quotes included', () => {
    assert.deepStrictEqual(rangeOfPath(parsed, ['nodes', 0, 'inputs', 'foo']), { line: 8, column: 10, endLine: 8, endColumn: 23 });
  });

  it('places a map entry on its key when asked', () => {
    assert.deepStrictEqual(rangeOfPath(parsed, ['nodes', 0, 'inputs', 'foo'], { on: 'key' }), {
      line: 8,
      column: 5,
      endLine: 8,
      endColumn: 8,
    });
  });

  it('places an entry with no value on its key', () => {
    assert.deepStrictEqual(rangeOfPath(parsed, ['nodes', 0, 'inputs', 'bar']), { line: 9, column: 5, endLine: 9, endColumn: 8 });
  });

  it('places a block collection value on its key', () => {
    assert.deepStrictEqual(rangeOfPath(parsed, ['nodes', 0, 'inputs']), { line: 7, column: 3, endLine: 7, endColumn: 9 });
  });

  it('falls back to the nearest existing parent', () => {
    assert.deepStrictEqual(rangeOfPath(parsed, ['nodes', 1, 'inputs', 'missing']), { line: 11, column: 3, endLine: 11, endColumn: 9 });
    assert.deepStrictEqual(rangeOfPath(parsed, ['nodes', 0, 'inputs', 'nope', 3]), rangeOfPath(parsed, ['nodes', 0, 'inputs']));
    assert.strictEqual(rangeOfPath(parsed, ['nodes', 7]).line, 4);
  });

  it('accepts indexes given as strings and finds keys through merge keys and aliases', () => {
    const text = 'base: &b\n  type: string\ninputs:\n  q:\n    <<: *b\n    default: x\n';
    const p = parseFlowDocument(text);
    assert.strictEqual(rangeOfPath(p, ['inputs', 'q', 'type']).line, 2);
    assert.strictEqual(rangeOfPath(p, ['inputs', 'q', 'default']).line, 6);
    assert.strictEqual(rangeOfYamlPath(FLOW, ['nodes', '1', 'name']).line, 10);
  });

  it('never throws on an unparseable document', () => {
    assert.deepStrictEqual(rangeOfYamlPath('\0\0', ['nodes', 0]), { line: 1, column: 1, endLine: 1, endColumn: 2 });
  });
});

describe('parseFlowDocument', () => {
  it('reads plain JSON for the runtime', () => {
    const p = parseFlowDocument(FLOW);
    assert.deepStrictEqual(p.problems, []);
    assert.deepStrictEqual((p.value as { nodes: unknown[] }).nodes[1], { name: 'b', inputs: { x: 1 } });
  });

  it('rejects a billion-laughs alias bomb', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const started = Date.now();
    const p = parseFlowDocument(lines.join('\n'));
    assert.strictEqual(p.value, undefined);
    assert.strictEqual(p.problems[0].code, 'YamlParseError');
    assert.match(p.problems[0].message, /alias/i);
    assert.ok(Date.now() - started < 1000);
  });

  it('rejects binary and non-UTF-8 content', () => {
    const bin = parseFlowDocument(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]));
    assert.strictEqual(bin.problems[0].code, 'YamlParseError');
    const latin1 = parseFlowDocument(Buffer.from('nodes: []\ndescription: caf\xe9\n', 'latin1'));
    assert.match(latin1.problems[0].message, /UTF-8/);
    const nul = parseFlowDocument('nodes: []\n\0');
    assert.match(nul.problems[0].message, /binary/);
  });

  it('accepts a UTF-8 byte order mark', () => {
    const p = parseFlowDocument(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('nodes: []\n')]));
    assert.deepStrictEqual(p.problems, []);
  });

  it('rejects files over the size limit without parsing them', () => {
    const p = parseFlowDocument('#'.repeat(MAX_FLOW_BYTES + 1));
    assert.strictEqual(p.problems.length, 1);
    assert.match(p.problems[0].message, /at most 5\.0 MB/);
  });

  it('reports duplicate keys and syntax errors on their position', () => {
    const p = parseFlowDocument('inputs:\n  q:\n    type: string\n  q:\n    type: int\n');
    assert.strictEqual(p.problems[0].code, 'YamlParseError');
    assert.strictEqual(p.problems[0].line, 4);
  });
});

describe('static checks never throw', () => {
  const probe = listProbe([]);
  const inputs: Array<string | Uint8Array> = [
    '',
    '~',
    '42',
    '"just a string"',
    '[1, 2]',
    'nodes: 3',
    'nodes: [1, null, "x", [], {}]',
    'nodes:\n- name: 3\n  inputs: [1]',
    'inputs: [a]\noutputs: 7\nnode_variants: []\nadditional_includes: {a: 1}',
    'inputs:\n  a: 1\noutputs:\n  b: [x]',
    'nodes:\n- name: a\n  activate: 3\n  source: 4\n- name: b\n  activate: {when: 1}\n  source: {type: [x]}',
    'node_variants:\n  a: {variants: {v: {node: 3}}}\n  b: 1\nnodes:\n- name: a\n  use_variants: true',
    '['.repeat(50000),
    '[a, '.repeat(20000),
    'x: "' + '['.repeat(3000) + '"',
    '- '.repeat(20000) + 'x',
    '{a: '.repeat(5000),
    '&a a: *a',
    'a: !!binary AAAA\nb: !custom x',
    '---\na: 1\n---\nb: 2',
    new Uint8Array(2048).map((_, i) => (i * 7919) % 256),
  ];
  for (const input of inputs) {
    const label = typeof input === 'string' ? JSON.stringify(input.slice(0, 30)) : 'random bytes';
    it(`on ${label}`, () => {
      const problems = checkFlowText(input, probe);
      assert.ok(Array.isArray(problems));
      for (const p of problems) assert.ok(p.line >= 1 && p.column >= 1 && p.code && p.message);
    });
  }
});
