/** Compiles a mode A suite folder (TypeScript) for the extension host: <outDir>/index.js + each *.test.js. */
import * as fs from 'fs';
import * as path from 'path';
import { build } from 'esbuild';

function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) found.push(...findTests(p));
    else if (/\.test\.ts$/.test(e.name)) found.push(p);
  }
  return found.sort();
}

/** Returns the path of the compiled entry (extensionTestsPath). */
export async function compileSuite(srcDir: string, outDir: string): Promise<string> {
  const tests = findTests(srcDir);
  if (tests.length === 0) throw new Error(`no *.test.ts in ${srcDir}`);
  fs.rmSync(outDir, { recursive: true, force: true });
  const entryPoints: Record<string, string> = { index: path.join(__dirname, 'suiteEntry.ts') };
  for (const t of tests) entryPoints[path.relative(srcDir, t).replace(/\.ts$/, '')] = t;
  await build({
    entryPoints,
    outdir: outDir,
    bundle: true,
    // node_modules (mocha, the project's dependencies) load from the repo at run time; vscode is the host's
    packages: 'external',
    external: ['vscode'],
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return path.join(outDir, 'index.js');
}
