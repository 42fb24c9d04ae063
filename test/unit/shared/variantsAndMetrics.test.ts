import * as assert from 'assert';
import { formatMetric, formatVariants } from '../../../src/shared/metricsTable';
import { parseWebviewMessage } from '../../../src/shared/protocol';
import { effectivePicks, variantChoicesFromFlow, variantSelectors } from '../../../src/shared/variantChoices';

const FLOW = {
  nodes: [
    { name: 'fetch', type: 'python' },
    { name: 'summarize', use_variants: true },
    { name: 'classify', use_variants: true },
    { name: 'orphan', use_variants: true },
  ],
  node_variants: {
    summarize: { default_variant_id: 'variant_1', variants: { variant_0: { node: {} }, variant_1: { node: {} } } },
    classify: { default_variant_id: 'gone', variants: { a: { node: {} }, b: { node: {} } } },
    unused: { default_variant_id: 'x', variants: { x: { node: {} } } },
  },
};

describe('variant choices of the session panel', () => {
  it('offers one choice per node that uses variants, with its default (the first when the default is missing)', () => {
    assert.deepStrictEqual(variantChoicesFromFlow(FLOW), [
      { node: 'summarize', variants: ['variant_0', 'variant_1'], defaultId: 'variant_1' },
      { node: 'classify', variants: ['a', 'b'], defaultId: 'a' },
    ]);
    assert.deepStrictEqual(variantChoicesFromFlow({ nodes: 'x' }), []);
    assert.deepStrictEqual(variantChoicesFromFlow(null), []);
  });

  it('keeps a pick only while the node still has it, and sends selectors for the picks that are not defaults', () => {
    const choices = variantChoicesFromFlow(FLOW);
    assert.deepStrictEqual(effectivePicks(choices, { summarize: 'variant_0', classify: 'zzz', other: 'q' }), {
      summarize: 'variant_0',
      classify: 'a',
    });
    assert.deepStrictEqual(variantSelectors(choices, { summarize: 'variant_0', classify: 'a' }), { selectors: ['${summarize.variant_0}'] });
    assert.deepStrictEqual(variantSelectors(choices, { summarize: 'variant_1', classify: 'b' }), { selectors: ['${classify.b}'] });
    assert.deepStrictEqual(variantSelectors(choices, {}), { selectors: [] });
    assert.match((variantSelectors(choices, { fetch: 'v' }) as { error: string }).error, /Node 'fetch' has no variants/);
    assert.match((variantSelectors(choices, { classify: 'c' }) as { error: string }).error, /no variant 'c'.*a, b/);
  });

  it('accepts variant picks in a run request only as plain names', () => {
    const ok = parseWebviewMessage({ type: 'run', inputs: {}, variants: { summarize: 'variant_0' } });
    assert.deepStrictEqual(ok, { ok: true, message: { type: 'run', inputs: {}, variants: { summarize: 'variant_0' } } });
    assert.deepStrictEqual(parseWebviewMessage({ type: 'run', inputs: {} }), { ok: true, message: { type: 'run', inputs: {} } });
    for (const variants of [
      { s: '${x.y}' },
      { s: 1 },
      ['a'],
      { '../x': 'a' },
      Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`n${i}`, 'v'])),
    ])
      assert.strictEqual(parseWebviewMessage({ type: 'run', inputs: {}, variants }).ok, false, JSON.stringify(variants));
  });
});

describe('metrics and variants as the panel prints them', () => {
  it('prints metrics and variants compactly', () => {
    assert.deepStrictEqual([formatMetric(1), formatMetric(0.123456), formatMetric(undefined)], ['1', '0.1235', '']);
    assert.strictEqual(formatVariants({ a: 'v0', b: 'v1' }), 'a=v0, b=v1');
    assert.strictEqual(formatVariants(undefined), '');
  });
});
