import * as fs from 'fs';
import * as path from 'path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { FlowSessionError } from '../errors';

export const FLOW_FILE = 'flow.dag.yaml';

/** What a flow asks of its session's environment: the base image and its Python requirements. */
export interface FlowEnvironment {
  /** absolute, resolved flow folder */
  flowDir: string;
  /** environment.image, when set */
  image?: string;
  /** the requirements file relative to the flow folder, when there is one */
  requirementsFile?: string;
  /** its content ('' without one) */
  requirements: string;
  /** additional_includes entries as written (relative to the flow folder) */
  additionalIncludes: string[];
}

/** Checks that a folder is a flow folder and returns its absolute path. */
export function resolveFlowDir(dir: string): string {
  const abs = path.resolve(dir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw new FlowSessionError('bad-input', `No such folder: ${abs}`, 'Give the path of a flow folder (one that contains flow.dag.yaml).');
  }
  if (!stat.isDirectory()) throw new FlowSessionError('bad-input', `Not a folder: ${abs}`, 'Give the folder that contains flow.dag.yaml, not a file.');
  if (!fs.existsSync(path.join(abs, FLOW_FILE))) {
    throw new FlowSessionError('bad-input', `No ${FLOW_FILE} in ${abs}`, `A flow folder contains ${FLOW_FILE}; check the path.`);
  }
  return fs.realpathSync(abs);
}

/** Reads environment.image and the requirements of a flow, as the session needs them. */
export function readFlowEnvironment(dir: string): FlowEnvironment {
  const flowDir = resolveFlowDir(dir);
  const file = path.join(flowDir, FLOW_FILE);
  const text = fs.readFileSync(file, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const pos = lineCounter.linePos(err.pos[0]);
    throw new FlowSessionError('flow-definition-error', `${file}:${pos.line}:${pos.col}: malformed YAML: ${err.message.split('\n')[0]}`, 'Fix the YAML syntax of flow.dag.yaml.');
  }
  const env = isMap(doc.contents) ? doc.contents.get('environment', true) : undefined;
  const field = (key: string): string | undefined => {
    if (!isMap(env)) return undefined;
    const node = env.get(key, true);
    if (node === undefined || node === null) return undefined;
    if (!isScalar(node) || typeof node.value !== 'string' || !node.value.trim()) {
      throw new FlowSessionError('flow-definition-error', `${file}: environment.${key} must be a non-empty string.`, `Fix environment.${key} in flow.dag.yaml.`);
    }
    return node.value.trim();
  };
  const image = field('image');
  const named = field('python_requirements_txt');
  let requirementsFile: string | undefined;
  let requirements = '';
  if (named) {
    const abs = path.resolve(flowDir, named);
    if (path.relative(flowDir, abs).startsWith('..') || path.isAbsolute(path.relative(flowDir, abs))) {
      throw new FlowSessionError('flow-definition-error', `${file}: environment.python_requirements_txt '${named}' lies outside the flow folder.`, 'Put the requirements file inside the flow folder.');
    }
    if (!fs.existsSync(abs)) {
      throw new FlowSessionError('bad-input', `Requirements file not found: ${abs} (environment.python_requirements_txt in ${file})`, 'Create the file or fix the path in flow.dag.yaml.');
    }
    requirementsFile = path.relative(flowDir, abs).split(path.sep).join('/');
    requirements = fs.readFileSync(abs, 'utf8');
  } else if (fs.existsSync(path.join(flowDir, 'requirements.txt'))) {
    requirementsFile = 'requirements.txt';
    requirements = fs.readFileSync(path.join(flowDir, 'requirements.txt'), 'utf8');
  }
  const includesNode = isMap(doc.contents) ? doc.contents.get('additional_includes', true) : undefined;
  const additionalIncludes = isSeq(includesNode)
    ? includesNode.items.flatMap((i) => (isScalar(i) && typeof i.value === 'string' && i.value.trim() ? [i.value.trim()] : []))
    : [];
  return { flowDir, image, requirementsFile, requirements, additionalIncludes };
}
