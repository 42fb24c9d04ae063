import * as assert from 'assert';
import { classifyPackages } from '../../../../src/core/session/packages';

describe('installed packages', () => {
  it('tells where each installed package came from', () => {
    const base = [
      { name: 'Jinja2', version: '3.1.2' },
      { name: 'pip', version: '23.0' },
    ];
    const env = [...base, { name: 'fs-greeting', version: '1.0.0' }];
    const current = [...env, { name: 'fs_extra', version: '0.3.0' }, { name: 'pip', version: '24.0' }];
    assert.deepStrictEqual(
      classifyPackages(current, base, env).map((p) => `${p.name}:${p.origin}`),
      ['Jinja2:base', 'pip:base', 'fs-greeting:requirements', 'fs_extra:by-hand', 'pip:by-hand'],
    );
    assert.ok(
      classifyPackages(current, base, null).filter((p) => p.origin === 'requirements').length === 0,
      'without requirements nothing is attributed to them',
    );
  });
});
