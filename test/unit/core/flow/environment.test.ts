import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readFlowEnvironment } from '../../../../src/core/flow/environment';
import { FlowSessionError } from '../../../../src/core/errors';
import { makeFlow } from '../../../support/flows/fixtures';

describe('the flow environment', () => {
  it('reads environment.image, the requirements and includes, naming the file on bad input', () => {
    const dir = makeFlow({
      'flow.dag.yaml':
        'environment:\n  image: team/base:1\n  python_requirements_txt: reqs/r.txt\nadditional_includes:\n- ../shared\nnodes: []\n',
      'reqs/r.txt': 'pkg==1\n',
    });
    assert.deepStrictEqual(readFlowEnvironment(dir), {
      flowDir: dir,
      image: 'team/base:1',
      requirementsFile: 'reqs/r.txt',
      requirements: 'pkg==1\n',
      additionalIncludes: ['../shared'],
    });
    const plain = makeFlow({ 'flow.dag.yaml': 'nodes: []\n', 'requirements.txt': 'x\n' });
    assert.strictEqual(readFlowEnvironment(plain).requirementsFile, 'requirements.txt');
    const escaping = makeFlow({ 'flow.dag.yaml': 'environment:\n  python_requirements_txt: ../../etc/passwd\n' });
    assert.throws(() => readFlowEnvironment(escaping), /outside the flow folder/);
    const broken = makeFlow({ 'flow.dag.yaml': 'a: [\n' });
    assert.throws(
      () => readFlowEnvironment(broken),
      (e: unknown) => e instanceof FlowSessionError && /flow\.dag\.yaml:\d+:\d+: malformed YAML/.test(e.message),
    );
  });
});

describe('reading a flow environment again', () => {
  it('sees every change to flow.dag.yaml and the requirements, even one of the same size', () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-env-')));
    fs.writeFileSync(path.join(dir, 'flow.dag.yaml'), 'environment:\n  image: team/base:1\nnodes: []\n');
    fs.writeFileSync(path.join(dir, 'requirements.txt'), 'pkg==1.0.0\n');
    assert.strictEqual(readFlowEnvironment(dir).image, 'team/base:1');
    fs.writeFileSync(path.join(dir, 'flow.dag.yaml'), 'environment:\n  image: team/base:2\nnodes: []\n');
    fs.writeFileSync(path.join(dir, 'requirements.txt'), 'pkg==2.0.0\n');
    const again = readFlowEnvironment(dir);
    assert.strictEqual(again.image, 'team/base:2');
    assert.strictEqual(again.requirements, 'pkg==2.0.0\n');
    again.additionalIncludes.push('x');
    assert.deepStrictEqual(readFlowEnvironment(dir).additionalIncludes, [], 'a caller cannot change what is cached');
    fs.rmSync(path.join(dir, 'requirements.txt'));
    assert.strictEqual(readFlowEnvironment(dir).requirementsFile, undefined);
  });
});
