import * as assert from 'assert';
import type { FlowProblem } from '../../../../src/core/flow/problem';
import { firstError } from '../../../../src/core/runs/runService';

const problem = (code: string, message: string, line: number, severity: FlowProblem['severity'] = 'error'): FlowProblem => ({
  code,
  message,
  file: 'flow.dag.yaml',
  line,
  column: 3,
  endLine: line,
  endColumn: 9,
  severity,
});

describe('the error of a run that static errors stop', () => {
  it('is the first error, with every other error after it (the first is often the consequence of another)', () => {
    const error = firstError([
      problem('UnknownField', 'ignored', 2, 'warning'),
      problem('InvalidSource', "Node source path 'a.py' is invalid on node 'a'.", 14),
      problem('InvalidAdditionalInclude', 'Additional include ../x/a.py points outside the workspace folder.', 18),
    ]);
    assert.deepStrictEqual(error, {
      code: 'InvalidSource',
      message:
        "Node source path 'a.py' is invalid on node 'a'. (flow.dag.yaml:14:3)\n" +
        'InvalidAdditionalInclude: Additional include ../x/a.py points outside the workspace folder. (flow.dag.yaml:18:3)',
    });
  });

  it('is none when there are only warnings', () => {
    assert.strictEqual(firstError([problem('UnknownField', 'ignored', 2, 'warning')]), undefined);
  });
});
