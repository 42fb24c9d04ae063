/**
 * A large flow for layout tests and the bench, shaped as big prompt flow DAGs are: `n` python nodes that read
 * one of the few nodes before them (parallel branches that fork and join), now and then a second one and the flow
 * input (long edges), every tenth with an activate condition, the last an aggregation; a flow input and output.
 */
export function largeFlow(n: number): Record<string, unknown> {
  const nodes = Array.from({ length: n }, (_, i) => ({
    name: `step_${i}`,
    type: 'python',
    source: { type: 'code', path: `step_${i}.py` },
    inputs: {
      a: i ? `\${step_${Math.max(0, i - 1 - (i % 3))}.output}` : '${inputs.text}',
      ...(i % 4 === 0 && i >= 4 ? { b: `\${step_${i - 4}.output}` } : {}),
      ...(i % 7 === 3 ? { text: '${inputs.text}' } : {}),
    },
    ...(i % 10 === 5 ? { activate: { when: `\${step_${i - 1}.output}`, is: true } } : {}),
    ...(i === n - 1 ? { aggregation: true } : {}),
  }));
  return {
    inputs: { text: { type: 'string' } },
    outputs: { out: { type: 'string', reference: `\${step_${n - 2}.output}` } },
    nodes,
  };
}
