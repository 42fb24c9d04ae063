import type { Pair, YAMLMap } from 'yaml';
import { yaml } from '../vendor';
import { isValidImageRef } from '../imageRef';
import { FlowSessionError } from '../errors';

/**
 * Sets (or, with `undefined`, removes) `environment.image` in the text of flow.dag.yaml, keeping comments,
 * quoting and layout: the edit touches only the value, or inserts/removes one line. Flow-style or unusual
 * layouts fall back to the yaml Document API, which keeps comments but may re-indent.
 */
export function setEnvironmentImage(text: string, image: string | undefined): string {
  if (image !== undefined && !isValidImageRef(image))
    throw new FlowSessionError(
      'bad-input',
      `Not a valid image name: ${image}`,
      'Use a name like python:3.11-slim or my-registry.io/team/flow-base:1.0.',
    );
  const { isMap, isScalar, parseDocument } = yaml();
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length > 0)
    throw new FlowSessionError(
      'flow-definition-error',
      `flow.dag.yaml has a YAML syntax error: ${doc.errors[0].message.split('\n')[0]}`,
      'Fix the YAML first, then change the base image.',
    );
  const root = doc.contents;
  if (root !== null && !isMap(root))
    throw new FlowSessionError('flow-definition-error', 'flow.dag.yaml is not a mapping.', 'Fix flow.dag.yaml first.');
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const envPair = root ? findPair(root, 'environment') : undefined;
  const env = envPair?.value;

  if (!envPair) {
    if (image === undefined) return text;
    const sep = text.length === 0 || text.endsWith('\n') ? '' : eol;
    return `${text}${sep}environment:${eol}  image: ${scalar(image)}${eol}`;
  }
  if (isMap(env) && !env.flow && env.range) {
    const imagePair = findPair(env, 'image');
    if (imagePair && isScalar(imagePair.value) && imagePair.value.range && isScalar(imagePair.key) && imagePair.key.range) {
      const [start, end] = imagePair.value.range;
      if (image !== undefined) return text.slice(0, start) + scalar(image) + text.slice(end);
      if (env.items.length === 1) return removeLines(text, keyRange(envPair)[0], env.range[1]);
      return removeLines(text, imagePair.key.range[0], end);
    }
    if (!imagePair && image !== undefined && env.items.length > 0) {
      const first = env.items[0];
      const firstStart = isScalar(first.key) && first.key.range ? first.key.range[0] : undefined;
      if (firstStart !== undefined) {
        const lineStart = text.lastIndexOf('\n', firstStart - 1) + 1;
        const indent = text.slice(lineStart, firstStart);
        if (/^ *$/.test(indent)) return `${text.slice(0, lineStart)}${indent}image: ${scalar(image)}${eol}${text.slice(lineStart)}`;
      }
    }
  }
  if ((env === null || (isScalar(env) && env.value === null)) && image !== undefined && isScalar(envPair.key) && envPair.key.range) {
    // `environment:` with nothing under it
    const keyEnd = text.indexOf('\n', envPair.key.range[1]);
    const lineEnd = keyEnd < 0 ? text.length : keyEnd + 1;
    const line = text.slice(envPair.key.range[0], lineEnd).replace(/\r?\n$/, '');
    if (/^environment\s*:\s*(#.*)?$/.test(line)) {
      const sep = keyEnd < 0 ? eol : '';
      return `${text.slice(0, lineEnd)}${sep}  image: ${scalar(image)}${eol}${text.slice(lineEnd)}`;
    }
  }
  // anything else: let the Document API do it
  if (image === undefined) doc.deleteIn(['environment', 'image']);
  else doc.setIn(['environment', 'image'], image);
  return doc.toString();
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  const { isPair, isScalar } = yaml();
  return map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key) as Pair | undefined;
}

function keyRange(pair: Pair): [number, number] {
  const { isScalar } = yaml();
  return isScalar(pair.key) && pair.key.range ? [pair.key.range[0], pair.key.range[1]] : [0, 0];
}

/** Removes whole lines from the one holding `start` to the one holding `end - 1`. */
function removeLines(text: string, start: number, end: number): string {
  const from = text.lastIndexOf('\n', start - 1) + 1;
  const nl = text.indexOf('\n', Math.max(end - 1, from));
  const to = nl < 0 ? text.length : nl + 1;
  return text.slice(0, from) + text.slice(to);
}

/** Image references are plain YAML scalars; anything odd is double-quoted. */
function scalar(v: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/.test(v) ? v : JSON.stringify(v);
}
