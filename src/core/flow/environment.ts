import * as fs from 'fs';
import * as path from 'path';
import { FLOW_FILE, MAX_FLOW_BYTES, parseFlowDocument, tooLargeProblem } from './dagDocument';
import { isMapping } from './flowModel';
import { FlowSessionError } from '../errors';
import { definitionFileIn, sessionFolderOf } from './flowKind';

export { FLOW_FILE };

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

/**
 * The session folder of a flow path (a flow folder, a flow file or a .prompty file; see flowKind), absolute with
 * symbolic links resolved.
 */
export function resolveFlowDir(dir: string): string {
  return sessionFolderOf(dir);
}

/**
 * A file's identity for the cache: its content (reading a small file is cheap, parsing YAML is not; unlike a
 * modification time it cannot miss a same-size edit on a file system with coarse timestamps).
 */
function stamp(file: string): string {
  try {
    const st = fs.statSync(file);
    if (st.size > MAX_FLOW_BYTES) return `large:${st.size}:${st.mtimeMs}`;
    return fs.readFileSync(file, 'latin1');
  } catch {
    return '\0missing';
  }
}

/**
 * Parsed environments by flow folder, with the stamps of the files they were read from: the Sessions tree
 * and the session manager ask for many flows again and again while nothing changed.
 */
const cache = new Map<string, { stamps: [string, string][]; env: FlowEnvironment }>();
const MAX_CACHED = 500;

/** Reads environment.image and the requirements of a flow, as the session needs them. */
export function readFlowEnvironment(dir: string): FlowEnvironment {
  const flowDir = resolveFlowDir(dir);
  const hit = cache.get(flowDir);
  if (hit && hit.stamps.every(([f, st]) => stamp(f) === st)) return { ...hit.env, additionalIncludes: [...hit.env.additionalIncludes] };
  const def = definitionFileIn(flowDir);
  const deps = [path.join(flowDir, def?.file ?? FLOW_FILE), path.join(flowDir, 'requirements.txt')];
  const stamps = deps.map((f): [string, string] => [f, stamp(f)]);
  const env = parseFlowEnvironment(flowDir);
  if (env.requirementsFile) {
    const req = path.join(flowDir, env.requirementsFile);
    if (!deps.includes(req)) stamps.push([req, stamp(req)]);
  }
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(flowDir, { stamps, env });
  return { ...env, additionalIncludes: [...env.additionalIncludes] };
}

function parseFlowEnvironment(flowDir: string): FlowEnvironment {
  // a folder of .prompty files only has no environment section: its requirements.txt, if any
  const def = definitionFileIn(flowDir);
  const name = def?.file ?? FLOW_FILE;
  const file = path.join(flowDir, name);
  if (!def) return withRequirements(flowDir, file, name, {});
  const size = fs.statSync(file).size;
  // the same limits as the static checks: size, encoding, nesting, aliases
  const parsed = size > MAX_FLOW_BYTES ? { problems: [tooLargeProblem(size)], value: undefined } : parseFlowDocument(fs.readFileSync(file));
  if (parsed.problems.length > 0) {
    const p = parsed.problems[0];
    throw new FlowSessionError(
      'flow-definition-error',
      `${file}:${p.line}:${p.column}: malformed YAML: ${p.message.replace(/^Error while parsing yaml file: \S+\. /, '').split('\n')[0]}`,
      `Fix the YAML syntax of ${name}.`,
    );
  }
  const root = isMapping(parsed.value) ? parsed.value : {};
  return withRequirements(flowDir, file, name, root);
}

/** environment.image and the requirements of a flow definition's root (empty for a folder of .prompty files). */
function withRequirements(flowDir: string, file: string, name: string, root: Record<string, unknown>): FlowEnvironment {
  const env = isMapping(root.environment) ? root.environment : {};
  const field = (key: string): string | undefined => {
    const v = env[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || !v.trim()) {
      throw new FlowSessionError(
        'flow-definition-error',
        `${file}: environment.${key} must be a non-empty string.`,
        `Fix environment.${key} in ${name}.`,
      );
    }
    return v.trim();
  };
  const image = field('image');
  const named = field('python_requirements_txt');
  let requirementsFile: string | undefined;
  let requirements = '';
  if (named) {
    const abs = path.resolve(flowDir, named);
    const rel = path.relative(flowDir, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new FlowSessionError(
        'flow-definition-error',
        `${file}: environment.python_requirements_txt '${named}' lies outside the flow folder.`,
        'Put the requirements file inside the flow folder.',
      );
    }
    if (!fs.existsSync(abs)) {
      throw new FlowSessionError(
        'bad-input',
        `Requirements file not found: ${abs} (environment.python_requirements_txt in ${file})`,
        `Create the file or fix the path in ${name}.`,
      );
    }
    requirementsFile = rel.split(path.sep).join('/');
    requirements = fs.readFileSync(abs, 'utf8');
  } else if (fs.existsSync(path.join(flowDir, 'requirements.txt'))) {
    requirementsFile = 'requirements.txt';
    requirements = fs.readFileSync(path.join(flowDir, 'requirements.txt'), 'utf8');
  }
  const includes = Array.isArray(root.additional_includes) ? root.additional_includes : [];
  const additionalIncludes = includes.flatMap((i) => (typeof i === 'string' && i.trim() ? [i.trim()] : []));
  return { flowDir, image, requirementsFile, requirements, additionalIncludes };
}
