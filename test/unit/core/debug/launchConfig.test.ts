import * as assert from 'assert';
import { attachArguments, checkLaunchConfiguration } from '../../../../src/core/debug/launchConfig';
import { FlowSessionError } from '../../../../src/core/errors';

describe('flowsession launch configurations', () => {
  it('keeps what launch.json gives and names a default', () => {
    const c = checkLaunchConfiguration({
      type: 'flowsession',
      request: 'launch',
      flow: '/f',
      inputs: { q: 1 },
      node: 'n',
      justMyCode: false,
    });
    assert.deepStrictEqual(c, {
      type: 'flowsession',
      request: 'launch',
      name: 'Debug Flow',
      flow: '/f',
      inputs: { q: 1 },
      node: 'n',
      justMyCode: false,
    });
  });

  it('names the field that is wrong', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /"flow"/],
      [{ flow: ' ' }, /"flow"/],
      [{ flow: '/f', inputs: [1] }, /"inputs"/],
      [{ flow: '/f', inputs: 'x=1' }, /"inputs"/],
      [{ flow: '/f', node: 3 }, /"node"/],
      [{ flow: '/f', variant: '' }, /"variant"/],
      [{ flow: '/f', justMyCode: 'yes' }, /"justMyCode"/],
    ];
    for (const [config, field] of cases)
      assert.throws(
        () => checkLaunchConfiguration(config),
        (e: unknown) => e instanceof FlowSessionError && e.kind === 'bad-input' && field.test(e.message),
        JSON.stringify(config),
      );
  });

  it("turns a launch into debugpy's attach with the mappings, only the flow's code stepped into", () => {
    const c = checkLaunchConfiguration({ name: 'Debug chat', flow: '/f' });
    const mappings = [{ localRoot: '/f', remoteRoot: '/flow' }];
    assert.deepStrictEqual(attachArguments(c, mappings, '/opt/flowsession/runtime'), {
      name: 'Debug chat',
      type: 'python',
      request: 'attach',
      justMyCode: true,
      pathMappings: mappings,
      subProcess: false,
      redirectOutput: true,
      showReturnValue: true,
      rules: [{ path: '/opt/flowsession/runtime/**', include: false }],
    });
  });
});
