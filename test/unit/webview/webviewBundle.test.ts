import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const WEBVIEW = path.join(__dirname, '../../../src/webview');
/** libraries bundled into the webview script, each chosen on purpose (the graph layout) */
const BUNDLED_LIBRARIES = ['@dagrejs/dagre'];

function files(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? files(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []));
}

describe('webview code', () => {
  const sources = files(WEBVIEW).map((f) => ({ f: path.relative(WEBVIEW, f), text: fs.readFileSync(f, 'utf8') }));

  it('imports neither vscode nor Node modules (it runs in a browser), only the libraries bundled for it', () => {
    for (const { f, text } of sources) {
      for (const m of text.matchAll(
        /^(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]/gm,
      )) {
        const spec = m[1] ?? m[2] ?? m[3];
        assert.ok(spec.startsWith('.') || BUNDLED_LIBRARIES.includes(spec), `${f} imports ${spec}`);
      }
    }
  });

  it('never parses markup: no innerHTML, outerHTML, insertAdjacentHTML, document.write or eval', () => {
    for (const { f, text } of sources) {
      assert.ok(!/\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(/.test(text), f);
    }
  });
});
