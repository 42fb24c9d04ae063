import * as assert from 'assert';
import * as path from 'path';
import { debugPathMappings } from '../../../../src/core/debug/pathMappings';
import type { FlowFile } from '../../../../src/core/fs/flowArchive';

const file = (name: string, abs: string, dir = false): FlowFile => ({ name, abs, dir, size: 0, mtimeMs: 0, executable: dir });

describe('debug path mappings', () => {
  const flow = path.resolve('/work/flows/chat');

  it('maps the flow folder to the session flow folder, and nothing more when every file is its own', () => {
    const files = [
      file('chat.py', path.join(flow, 'chat.py')),
      file('lib', path.join(flow, 'lib'), true),
      file('lib/u.py', path.join(flow, 'lib', 'u.py')),
    ];
    assert.deepStrictEqual(debugPathMappings(flow, flow, files, '/flow'), [{ localRoot: flow, remoteRoot: '/flow' }]);
  });

  it('maps an included folder and an included file from where they really are, most specific first', () => {
    const shared = path.resolve('/work/shared/helpers');
    const prompt = path.resolve('/work/shared/prompts/system.jinja2');
    const files = [
      file('chat.py', path.join(flow, 'chat.py')),
      file('helpers', shared, true),
      file('helpers/scale.py', path.join(shared, 'scale.py')),
      file('helpers/deep', path.join(shared, 'deep'), true),
      file('helpers/deep/x.py', path.join(shared, 'deep', 'x.py')),
      file('system.jinja2', prompt),
    ];
    assert.deepStrictEqual(debugPathMappings(flow, flow, files, '/flow'), [
      { localRoot: prompt, remoteRoot: '/flow/system.jinja2' },
      { localRoot: shared, remoteRoot: '/flow/helpers' },
      { localRoot: flow, remoteRoot: '/flow' },
    ]);
  });

  it('maps a symlinked folder inside the flow from its target, and a flow folder reached through a link from both paths', () => {
    const real = path.resolve('/data/flows/chat');
    const target = path.resolve('/data/common/tools');
    const files = [file('tools', target, true), file('tools/t.py', path.join(target, 't.py')), file('a.py', path.join(real, 'a.py'))];
    assert.deepStrictEqual(debugPathMappings(flow, real, files, '/flow'), [
      { localRoot: target, remoteRoot: '/flow/tools' },
      { localRoot: flow, remoteRoot: '/flow' },
      { localRoot: real, remoteRoot: '/flow' },
    ]);
  });
});
