import * as assert from 'assert';
import type { FlowProblem } from '../../../../src/core/flow/problem';
import { ProblemStore } from '../../../../src/ui/diagnostics/problemStore';

const p = (file: string, line: number, code = 'PythonLoadError', message = `${code} at ${line}`): FlowProblem => ({
  code,
  message,
  file,
  line,
  column: 1,
  endLine: line,
  endColumn: 5,
  severity: 'error',
});
const codes = (ps: FlowProblem[]) => ps.map((x) => `${x.code}@${x.file}:${x.line}`).sort();

describe('ProblemStore', () => {
  it('shows static problems, then adds the session problems of the same validation', () => {
    const s = new ProblemStore();
    s.noteSave('/f', 'a.py', 1);
    const stat = [p('flow.dag.yaml', 3, 'NodeReferenceNotFound')];
    assert.deepStrictEqual(s.applyStatic('/f', 1, stat), ['flow.dag.yaml']);
    const changed = s.applySession('/f', { generation: 1, problems: [...stat, p('a.py', 2)], sources: ['a.py'] });
    assert.deepStrictEqual(changed, ['a.py']);
    assert.deepStrictEqual(codes(s.problemsOf('/f', 'a.py')), ['PythonLoadError@a.py:2']);
    assert.deepStrictEqual(codes(s.problemsOf('/f', 'flow.dag.yaml')), ['NodeReferenceNotFound@flow.dag.yaml:3']);
  });

  it('removes fixed problems of the files the session re-checked and keeps the others', () => {
    const s = new ProblemStore();
    s.applySession('/f', { generation: 1, problems: [p('a.py', 2), p('b.py', 4)] });
    s.noteSave('/f', 'a.py', 2);
    const changed = s.applySession('/f', { generation: 2, problems: [], sources: ['a.py'] });
    assert.deepStrictEqual(changed, ['a.py']);
    assert.deepStrictEqual(s.problemsOf('/f', 'a.py'), []);
    assert.deepStrictEqual(codes(s.problemsOf('/f', 'b.py')), ['PythonLoadError@b.py:4'], 'b.py was not re-checked');
  });

  it('a full result replaces the session problems of every file', () => {
    const s = new ProblemStore();
    s.applySession('/f', { generation: 1, problems: [p('a.py', 2), p('flow.dag.yaml', 9, 'MissingNodeInput')] });
    s.applySession('/f', { generation: 2, problems: [p('b.py', 1)] });
    assert.deepStrictEqual(s.problemsOf('/f', 'a.py'), []);
    assert.deepStrictEqual(s.problemsOf('/f', 'flow.dag.yaml'), []);
    assert.deepStrictEqual(codes(s.problemsOf('/f', 'b.py')), ['PythonLoadError@b.py:1']);
  });

  it('never lets a result for an older version of a file overwrite a newer one', () => {
    const s = new ProblemStore();
    s.noteSave('/f', 'a.py', 1);
    s.noteSave('/f', 'a.py', 2); // saved again while validation 1 ran
    const changed = s.applySession('/f', { generation: 1, problems: [p('a.py', 7)], sources: ['a.py'] });
    assert.deepStrictEqual(changed, []);
    assert.deepStrictEqual(s.problemsOf('/f', 'a.py'), []);
    s.applySession('/f', { generation: 2, problems: [p('a.py', 3)], sources: ['a.py'] });
    assert.deepStrictEqual(codes(s.problemsOf('/f', 'a.py')), ['PythonLoadError@a.py:3']);
    // a late result of generation 1 still cannot win
    s.applySession('/f', { generation: 1, problems: [], sources: ['a.py'] });
    assert.deepStrictEqual(codes(s.problemsOf('/f', 'a.py')), ['PythonLoadError@a.py:3']);
  });

  it('ignores a stale static result of flow.dag.yaml', () => {
    const s = new ProblemStore();
    s.noteSave('/f', 'flow.dag.yaml', 1);
    s.noteSave('/f', 'flow.dag.yaml', 2);
    s.applyStatic('/f', 2, []);
    s.applyStatic('/f', 1, [p('flow.dag.yaml', 1, 'YamlParseError')]);
    assert.deepStrictEqual(s.problemsOf('/f', 'flow.dag.yaml'), []);
  });

  it('a partial result adds flow.dag.yaml findings without dropping earlier ones', () => {
    const s = new ProblemStore();
    s.applySession('/f', { generation: 1, problems: [p('flow.dag.yaml', 5, 'MissingNodeInput')] });
    s.applySession('/f', { generation: 2, problems: [p('flow.dag.yaml', 9, 'UnknownNodeInput')], sources: ['a.py'] });
    assert.deepStrictEqual(codes(s.problemsOf('/f', 'flow.dag.yaml')), [
      'MissingNodeInput@flow.dag.yaml:5',
      'UnknownNodeInput@flow.dag.yaml:9',
    ]);
  });

  it('clears the session layer when the session stops, keeping static problems', () => {
    const s = new ProblemStore();
    s.applyStatic('/f', 1, [p('flow.dag.yaml', 1, 'FlowDefinitionError')]);
    s.applySession('/f', { generation: 1, problems: [p('flow.dag.yaml', 1, 'FlowDefinitionError'), p('a.py', 2)] });
    assert.deepStrictEqual(s.clearSession('/f'), ['a.py']);
    assert.deepStrictEqual(s.problemsOf('/f', 'a.py'), []);
    assert.strictEqual(s.problemsOf('/f', 'flow.dag.yaml').length, 1);
  });

  it('does not show a problem twice when static and session report it', () => {
    const s = new ProblemStore();
    const dup = p('flow.dag.yaml', 4, 'InvalidSource');
    s.applyStatic('/f', 1, [dup]);
    s.applySession('/f', { generation: 1, problems: [dup] });
    assert.strictEqual(s.problemsOf('/f', 'flow.dag.yaml').length, 1);
  });

  it('forgets a deleted flow', () => {
    const s = new ProblemStore();
    s.applySession('/f', { generation: 1, problems: [p('a.py', 1)] });
    assert.deepStrictEqual(s.clearFlow('/f'), ['a.py']);
    assert.deepStrictEqual(s.problemsOf('/f', 'a.py'), []);
  });
});
