import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parsePairs, typedInputs, variantFlag, variantFlags } from '../../../src/cli/flowCommands';
import { UsageError } from '../../../src/cli/output';

describe("the CLI's flow arguments", () => {
  it('parses name=value pairs, keeping everything after the first =', () => {
    assert.deepStrictEqual(parsePairs(['a=1', 'q=x=y', 'm=${data.col}'], '--inputs'), { a: '1', q: 'x=y', m: '${data.col}' });
    assert.throws(() => parsePairs(['novalue'], '--inputs'), UsageError);
  });

  it('reads --inputs values by the types the flow declares', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-cli-inputs-'));
    try {
      const inputs = 'inputs:\n  n: {type: int}\n  b: {type: bool}\n  l: {type: list}\n  s: {type: string}\nnodes: []\n';
      fs.writeFileSync(path.join(dir, 'flow.dag.yaml'), inputs);
      assert.deepStrictEqual(await typedInputs(dir, ['n=4', 'b=True', 'l=[1]', 's=4', 'extra=5']), {
        n: 4,
        b: true,
        l: [1],
        s: '4',
        extra: '5',
      });
      await assert.rejects(
        typedInputs(dir, ['n=four']),
        (e: Error) => e instanceof UsageError && /--inputs n.*whole number/.test(e.message),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('--variant', () => {
  it("takes '${node.variant_id}' and refuses anything else", () => {
    assert.strictEqual(variantFlag({ variant: ['${summarize.variant_1}'] }), '${summarize.variant_1}');
    assert.strictEqual(variantFlag({}), undefined);
    assert.throws(() => variantFlag({ variant: ['variant_1'] }), UsageError);
    assert.throws(() => variantFlag({ variant: ['${summarize}'] }), UsageError);
  });

  it('gives a run one variant per node, and a batch each variant given in turn', () => {
    assert.deepStrictEqual(variantFlag({ variant: ['${a.v1}', '${b.v2}'] }), ['${a.v1}', '${b.v2}']);
    assert.throws(() => variantFlag({ variant: ['${a.v1}', '${a.v2}'] }), /names node 'a' twice/);
    assert.deepStrictEqual(variantFlags({ variant: ['${a.v1}', '${a.v2}'] }), ['${a.v1}', '${a.v2}']);
  });
});
