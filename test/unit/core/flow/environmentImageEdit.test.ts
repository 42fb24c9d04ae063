import * as assert from 'assert';
import { parseDocument } from 'yaml';
import { setEnvironmentImage } from '../../../../src/core/flow/environmentImageEdit';

const imageOf = (text: string) => (parseDocument(text).toJS() as { environment?: { image?: string } } | null)?.environment?.image;

const FLOW = `# my flow
inputs:
  name: {type: string}   # flow-style stays
nodes:
- name: greet
  type: python
  source: {type: code, path: greet.py}
environment:
  # the session image
  image: python:3.11-slim   # pinned
  python_requirements_txt: requirements.txt
outputs: {}
`;

describe('setEnvironmentImage', () => {
  it('replaces only the value, keeping comments and layout', () => {
    const out = setEnvironmentImage(FLOW, 'myreg.io/team/base:2');
    assert.strictEqual(out, FLOW.replace('python:3.11-slim', 'myreg.io/team/base:2'));
  });

  it('inserts image into an environment without one, at its indentation', () => {
    const text = 'nodes: []\nenvironment:\n    python_requirements_txt: req.txt\n# tail\n';
    const out = setEnvironmentImage(text, 'python:3.12-slim');
    assert.strictEqual(out, 'nodes: []\nenvironment:\n    image: python:3.12-slim\n    python_requirements_txt: req.txt\n# tail\n');
  });

  it('appends an environment section when there is none', () => {
    const out = setEnvironmentImage('# c\nnodes: []', 'python:3.12-slim');
    assert.strictEqual(out, '# c\nnodes: []\nenvironment:\n  image: python:3.12-slim\n');
    assert.strictEqual(imageOf(out), 'python:3.12-slim');
  });

  it('fills an empty environment key', () => {
    const out = setEnvironmentImage('environment:  # here\nnodes: []\n', 'python:3.12-slim');
    assert.strictEqual(out, 'environment:  # here\n  image: python:3.12-slim\nnodes: []\n');
    assert.strictEqual(imageOf(out), 'python:3.12-slim');
  });

  it('removes the image line, and the environment when it held only the image', () => {
    const out = setEnvironmentImage(FLOW, undefined);
    assert.ok(!out.includes('image:'));
    assert.ok(out.includes('# the session image') && out.includes('python_requirements_txt: requirements.txt'));
    const only = 'nodes: []\nenvironment:\n  image: python:3.11-slim\noutputs: {}\n';
    assert.strictEqual(setEnvironmentImage(only, undefined), 'nodes: []\noutputs: {}\n');
    assert.strictEqual(setEnvironmentImage('nodes: []\n', undefined), 'nodes: []\n');
  });

  it('keeps CRLF line ends', () => {
    const out = setEnvironmentImage('nodes: []\r\n', 'python:3.12-slim');
    assert.strictEqual(out, 'nodes: []\r\nenvironment:\r\n  image: python:3.12-slim\r\n');
  });

  it('handles a flow-style environment through the Document API', () => {
    const out = setEnvironmentImage('# keep\nenvironment: {python_requirements_txt: r.txt}\n', 'python:3.12-slim');
    assert.strictEqual(imageOf(out), 'python:3.12-slim');
    assert.ok(out.includes('# keep'));
  });

  it('refuses invalid image names and broken YAML', () => {
    assert.throws(() => setEnvironmentImage(FLOW, 'python:3.11; rm -rf /'), /Not a valid image name/);
    assert.throws(() => setEnvironmentImage('a: [\n', 'python:3.12'), /syntax error/);
    assert.throws(() => setEnvironmentImage('- a\n- b\n', 'python:3.12'), /not a mapping/);
  });
});
