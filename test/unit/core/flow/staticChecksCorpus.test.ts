import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { checkFlowStatic } from '../../../../src/core/flow/staticChecks';

const ROOT = path.join(__dirname, '../../../fixtures/flows');

function flows(kind: 'valid' | 'invalid'): string[] {
  return fs
    .readdirSync(path.join(ROOT, kind))
    .filter((n) => !n.startsWith('_'))
    .sort();
}

interface Expected {
  static: Array<{ code: string; file: string; line: number; column: number; severity: string }>;
  runtime?: unknown[];
}

describe('flow fixture corpus (static checks)', () => {
  for (const name of flows('valid')) {
    it(`valid/${name} has no problem`, async () => {
      const problems = await checkFlowStatic(path.join(ROOT, 'valid', name));
      assert.deepStrictEqual(problems, []);
    });
  }

  for (const name of flows('invalid')) {
    it(`invalid/${name} reports exactly its expected static problems`, async () => {
      const dir = path.join(ROOT, 'invalid', name);
      const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
      assert.ok(expected.static.length > 0 || (expected.runtime ?? []).length > 0, 'a broken fixture expects some problem');
      const problems = await checkFlowStatic(dir);
      const got = problems.map(({ code, file, line, column, severity }) => ({ code, file, line, column, severity }));
      assert.deepStrictEqual(got, expected.static);
      for (const p of problems) {
        assert.ok(p.message.length > 10, `${p.code} has a message`);
        assert.ok(p.endLine > p.line || (p.endLine === p.line && p.endColumn > p.column), `${p.code} has a non-empty range`);
      }
    });
  }
});
