import * as assert from 'assert';
import { expandMultiValueFlags } from '../../../src/cli/multiValueFlags';

describe("prompt flow's several values after one flag", () => {
  it('repeats --column-mapping, --inputs and --init for each k=v that follows, as pf reads them', () => {
    assert.deepStrictEqual(
      expandMultiValueFlags(['batch', 'eval', '--data', 'd.jsonl', '--column-mapping', 'a=${data.a}', 'b=${run.outputs.b}', '--run', 'r1']),
      ['batch', 'eval', '--data', 'd.jsonl', '--column-mapping', 'a=${data.a}', '--column-mapping', 'b=${run.outputs.b}', '--run', 'r1'],
    );
    assert.deepStrictEqual(expandMultiValueFlags(['run', 'f', '--inputs', 'x=1', 'y=a b', '--json']), [
      'run',
      'f',
      '--inputs',
      'x=1',
      '--inputs',
      'y=a b',
      '--json',
    ]);
    assert.deepStrictEqual(expandMultiValueFlags(['run', 'f', '--init=k=v', 'k2=v2']), ['run', 'f', '--init=k=v', '--init', 'k2=v2']);
  });

  it('takes any first value, and stops at a value without "=", another option or --', () => {
    assert.deepStrictEqual(expandMultiValueFlags(['run', '--init', 'init.json', 'flow']), ['run', '--init', 'init.json', 'flow']);
    assert.deepStrictEqual(expandMultiValueFlags(['run', '--inputs', 'x=1', 'flow', 'y=2']), ['run', '--inputs', 'x=1', 'flow', 'y=2']);
    assert.deepStrictEqual(expandMultiValueFlags(['batch', '--data', 'a=b', 'c=d']), ['batch', '--data', 'a=b', 'c=d']);
    assert.deepStrictEqual(expandMultiValueFlags(['run', '--inputs', 'x=1', '--', 'y=2']), ['run', '--inputs', 'x=1', '--', 'y=2']);
  });
});
