// The environment of a child process with nothing of the npm that started us. Under `npm test` the outer
// npm (on the machine's Node) exports npm_config_*, npm_package_*, npm_lifecycle_*, INIT_CWD, NODE and its
// own bin folders on PATH; a child npm on another Node (code-server's install needs Node 24) reads them as
// its own: code-server's install script, for one, reads the Node version from npm_config_user_agent.
const path = require('path');

const OUTER_NPM_PREFIXES = ['npm_config_', 'npm_package_', 'npm_lifecycle_'];
const OUTER_NPM_NAMES = new Set(['INIT_CWD', 'NODE', 'npm_command', 'npm_execpath', 'npm_node_execpath', 'COLOR']);

function isOuterNpmVariable(name) {
  const lower = name.toLowerCase();
  return OUTER_NPM_NAMES.has(name) || OUTER_NPM_PREFIXES.some((p) => lower.startsWith(p));
}

/** PATH entries npm puts first for a script: every node_modules/.bin up the tree, and its node-gyp shim. */
function isOuterNpmPathEntry(dir) {
  const d = dir.replace(/[\\/]+$/, '');
  return d.endsWith(`${path.sep}node_modules${path.sep}.bin`) || d.endsWith(`${path.sep}node-gyp-bin`);
}

/** A copy of `env` without the outer npm's variables and PATH entries, with `extra` set on top. */
function withoutOuterNpm(env = process.env, extra = {}) {
  const out = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !isOuterNpmVariable(k)) out[k] = v;
  if (out.PATH)
    out.PATH = out.PATH.split(path.delimiter)
      .filter((d) => d && !isOuterNpmPathEntry(d))
      .join(path.delimiter);
  return { ...out, ...extra };
}

module.exports = { withoutOuterNpm, isOuterNpmVariable };
