import * as assert from 'assert';
import { isValidImageRef, splitImageRef } from '../../../src/core/imageRef';

describe('image references', () => {
  it('validates and splits image references', () => {
    for (const ok of ['python:3.11-slim', '127.0.0.1:5000/team/base:v1', 'ghcr.io/org/img@sha256:' + 'a'.repeat(64), 'ubuntu'])
      assert.ok(isValidImageRef(ok), ok);
    for (const bad of ['Python:3', 'img:tag;rm', 'img tag', '../x', 'x:', '$(id)', '']) assert.ok(!isValidImageRef(bad), bad);
    assert.deepStrictEqual(splitImageRef('127.0.0.1:5000/team/base:v1'), { repository: '127.0.0.1:5000/team/base', tag: 'v1' });
    assert.deepStrictEqual(splitImageRef('127.0.0.1:5000/team/base'), { repository: '127.0.0.1:5000/team/base', tag: 'latest' });
  });
});
