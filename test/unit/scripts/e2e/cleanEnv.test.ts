import * as assert from 'assert';
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module of the scripts
const { withoutOuterNpm } = require('../../../../scripts/e2e/cleanEnv.cjs') as {
  withoutOuterNpm(env: NodeJS.ProcessEnv, extra?: Record<string, string>): NodeJS.ProcessEnv;
};

describe("the end-to-end installers' child environment", () => {
  it('carries nothing of the npm that runs `npm test`', () => {
    const env = withoutOuterNpm(
      {
        HOME: '/home/u',
        npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64',
        NPM_CONFIG_NODEDIR: '/usr',
        npm_package_name: 'flowsession',
        npm_lifecycle_event: 'test',
        npm_lifecycle_script: 'npm run lint && …',
        npm_command: 'run-script',
        npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js',
        npm_node_execpath: '/usr/bin/node',
        INIT_CWD: '/home/u/flowsession',
        NODE: '/usr/bin/node',
        PATH: [
          '/home/u/flowsession/node_modules/.bin',
          '/home/u/node_modules/.bin',
          '/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin',
          '/usr/local/bin',
          '/usr/bin',
        ].join(path.delimiter),
      },
      { PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
    );
    assert.deepStrictEqual(env, {
      HOME: '/home/u',
      PATH: ['/usr/local/bin', '/usr/bin'].join(path.delimiter),
      PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
    });
  });

  it('leaves the environment of a shell alone', () => {
    const shell = { HOME: '/home/u', PATH: '/usr/bin', LANG: 'C.UTF-8', NODE_EXTRA_CA_CERTS: '/etc/ca.pem' };
    assert.deepStrictEqual(withoutOuterNpm(shell), shell);
  });
});
