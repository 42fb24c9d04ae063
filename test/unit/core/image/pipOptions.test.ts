import * as assert from 'assert';
import { checkPackageSpecs, pipInstallArgv, pipOptionArgs } from '../../../../src/core/image/pipOptions';
import { FlowSessionError } from '../../../../src/core/errors';

describe('untrusted names and options', () => {
  it('accepts package requirements and refuses shell syntax and options', () => {
    assert.deepStrictEqual(checkPackageSpecs([' requests==2.32.3 ', 'pandas[excel]>=2.0,<3', 'fs_extra']), [
      'requests==2.32.3',
      'pandas[excel]>=2.0,<3',
      'fs_extra',
    ]);
    for (const bad of ['a; rm -rf /', '$(id)', '`id`', '--index-url=http://x', '-e .', 'a b', 'x|y', 'x>1;y']) {
      assert.throws(() => checkPackageSpecs([bad]), FlowSessionError, bad);
    }
    assert.throws(() => checkPackageSpecs(['  ']), /No package/);
  });

  it('turns pip settings into argv and refuses values that could become options', () => {
    assert.deepStrictEqual(
      pipOptionArgs({
        indexUrl: 'https://pkgs.example/simple',
        extraIndexUrl: ['https://b/simple'],
        findLinks: ['http://127.0.0.1:9/'],
        trustedHost: ['b'],
        noIndex: true,
      }),
      [
        '--no-index',
        '--index-url',
        'https://pkgs.example/simple',
        '--extra-index-url',
        'https://b/simple',
        '--find-links',
        'http://127.0.0.1:9/',
        '--trusted-host',
        'b',
      ],
    );
    assert.throws(() => pipOptionArgs({ indexUrl: '--pre', extraIndexUrl: [], findLinks: [], trustedHost: [], noIndex: false }));
    assert.throws(() => pipOptionArgs({ indexUrl: 'http://a b', extraIndexUrl: [], findLinks: [], trustedHost: [], noIndex: false }));
  });

  it('builds one pip install argv: the settings as options, then what to install', () => {
    const pip = { indexUrl: '', extraIndexUrl: [], findLinks: [], trustedHost: [], noIndex: true };
    const argv = pipInstallArgv(pip, ['--', 'requests==2.32.3']);
    assert.deepStrictEqual(argv.slice(0, 4), ['/opt/flowsession/venv/bin/python', '-m', 'pip', 'install']);
    assert.deepStrictEqual(argv.slice(-3), ['--no-index', '--', 'requests==2.32.3']);
    assert.throws(() => pipInstallArgv({ ...pip, indexUrl: '--pre' }, ['-r', 'requirements.txt']));
  });
});
