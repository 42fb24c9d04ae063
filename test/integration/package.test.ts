import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';

describe('the extension package', function () {
  it('ships the bundles, the runtime and the webview, and no source, tests or caches', () => {
    const root = path.resolve(__dirname, '..', '..');
    const r = spawnSync(process.execPath, [require.resolve('@vscode/vsce/vsce'), 'ls', '--no-dependencies'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.strictEqual(r.status, 0, r.stderr);
    const files = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim());
    for (const needed of [
      'package.json',
      'dist/extension.js',
      'dist/cli.js',
      'dist/webview/panel.js',
      'dist/webview/toolkit.min.js',
      'dist/samples/hello-flow/flow.dag.yaml',
      'dist/samples/hello-flow/greet.py',
      'runtime/flowsession_runtime/__main__.py',
      'runtime/flowsession_runtime/keepalive.py',
      'runtime/image/setup_image.py',
      'runtime/image/install_requirements.py',
      'runtime/shim/promptflow/__init__.py',
      'runtime/shim/promptflow/tools/aoai.py',
      'runtime/shim/dotenv/__init__.py',
      'README.md',
      'CHANGELOG.md',
    ]) {
      assert.ok(files.includes(needed), `${needed} is packaged`);
    }
    const unwanted = files.filter(
      (f) =>
        /^(src|test|scripts|samples|node_modules)\//.test(f) || /__pycache__|\.pyc$|\.map$|\.ts$/.test(f) || f.startsWith('runtime/tests/'),
    );
    assert.deepStrictEqual(unwanted, []);
  });
});
