import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseReference, type Reference } from '../../../../src/core/flow/references';

interface GrammarCase {
  value: unknown;
  reference: Reference | null;
  why: string;
}

// the same table runs against the Python runtime's parser (runtime/tests/test_references.py)
const GRAMMAR = path.join(__dirname, '..', '..', '..', 'fixtures', 'referenceGrammar.json');
const cases = (JSON.parse(fs.readFileSync(GRAMMAR, 'utf8')) as { cases: GrammarCase[] }).cases;

describe('parseReference (prompt flow InputAssignment.deserialize)', () => {
  for (const c of cases) {
    it(`${JSON.stringify(c.value)}: ${c.why}`, () => {
      assert.deepStrictEqual(parseReference(c.value), c.reference ?? undefined);
    });
  }
});
