import * as assert from 'assert';
import { compareDigests } from '../../../../src/core/image/baseUpdates';

describe('compareDigests', () => {
  const d1 = 'sha256:' + '1'.repeat(64);
  const d2 = 'sha256:' + '2'.repeat(64);
  it('is up to date when a local RepoDigest of the repository matches the registry', () => {
    assert.strictEqual(compareDigests('python:3.11-slim', [`python@${d1}`], d1), 'up-to-date');
    assert.strictEqual(compareDigests('docker.io/library/python:3.11-slim', [`python@${d1}`], d1), 'up-to-date');
  });
  it('offers an update when the registry has another digest', () => {
    assert.strictEqual(compareDigests('python:3.11-slim', [`python@${d1}`], d2), 'update-available');
  });
  it('cannot tell for local-only images or a silent registry', () => {
    assert.strictEqual(compareDigests('mine:1', [], d1), 'unknown');
    assert.strictEqual(compareDigests('python:3.11', [`python@${d1}`], undefined), 'unknown');
  });
  it('knows an image that is not pulled', () => {
    assert.strictEqual(compareDigests('python:3.11', undefined, d1), 'not-pulled');
  });
});
