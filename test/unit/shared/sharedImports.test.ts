import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const SHARED = path.join(__dirname, '../../../src/shared');

describe('src/shared', () => {
  it('imports only its own modules: no vscode, no Node, nothing of ui, webview, cli or core', () => {
    for (const f of fs.readdirSync(SHARED).filter((n) => n.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(SHARED, f), 'utf8');
      for (const m of text.matchAll(
        /^(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]/gm,
      )) {
        const spec = m[1] ?? m[2] ?? m[3];
        assert.match(spec, /^\.\/[A-Za-z0-9_]+$/, `${f} imports ${spec}`);
      }
    }
  });
});
