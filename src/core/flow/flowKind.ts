import * as fs from 'fs';
import * as path from 'path';
import { FlowSessionError } from '../errors';

/**
 * The one place that answers "what kind of flow is this path": prompt flow's three kinds are a folder with
 * flow.dag.yaml (a DAG), a folder with flow.flex.yaml (a Python function or class entry), and a .prompty file.
 * A flow's session is the session of its folder, so a .prompty shares the session of the folder it lies in.
 */
export type FlowKind = 'dag' | 'flex' | 'prompty';

/** In the order prompt flow looks for them (a DAG wins when a folder has both). */
export const DAG_FILES = ['flow.dag.yaml', 'flow.dag.yml'] as const;
export const FLEX_FILES = ['flow.flex.yaml', 'flow.flex.yml'] as const;
export const PROMPTY_EXTENSION = '.prompty';
/** Every file name that makes its folder a flow folder (the .prompty files aside). */
export const FLOW_DEFINITION_FILES: readonly string[] = [...DAG_FILES, ...FLEX_FILES];

export interface FlowTarget {
  /** the flow's folder, absolute with symbolic links resolved: the key of its session */
  dir: string;
  kind: FlowKind;
  /** the flow file, relative to `dir` with forward slashes (flow.dag.yaml, flow.flex.yml, chat.prompty, sub/x.prompty) */
  file: string;
  /**
   * A flex entry given in place of a flow (`module:function`, as `pf flow test --flow programmer:write` takes it): the
   * flow is `entry: <it>` alone, its folder the working folder that holds the module; `file` is the flex file name.
   */
  entry?: string;
}

type Exists = (p: string) => boolean;
const isFile: Exists = (p) => {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};

/** The kind a file name stands for, when it is a flow file. */
export function kindOfFileName(name: string): FlowKind | undefined {
  const base = path.basename(name);
  if ((DAG_FILES as readonly string[]).includes(base)) return 'dag';
  if ((FLEX_FILES as readonly string[]).includes(base)) return 'flex';
  if (base.toLowerCase().endsWith(PROMPTY_EXTENSION) && base.length > PROMPTY_EXTENSION.length) return 'prompty';
  return undefined;
}

/** The DAG or flex definition file of a folder (its name), if it has one. */
export function definitionFileIn(dir: string, exists: Exists = isFile): { kind: 'dag' | 'flex'; file: string } | undefined {
  for (const file of DAG_FILES) if (exists(path.join(dir, file))) return { kind: 'dag', file };
  for (const file of FLEX_FILES) if (exists(path.join(dir, file))) return { kind: 'flex', file };
  return undefined;
}

/** The .prompty files directly in a folder, sorted. */
export function promptyFilesIn(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && kindOfFileName(e.name) === 'prompty')
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** Whether a folder holds a flow of any kind: a definition file or a .prompty file. */
export function isFlowFolder(dir: string): boolean {
  return definitionFileIn(dir) !== undefined || promptyFilesIn(dir).length > 0;
}

/** The flows of a folder, each with its kind: its definition first, then its .prompty files. */
export function flowsInFolder(dir: string): { file: string; kind: FlowKind }[] {
  const def = definitionFileIn(dir);
  return [...(def ? [def] : []), ...promptyFilesIn(dir).map((file) => ({ file, kind: 'prompty' as const }))];
}

/** A short label of a folder's flows: "flex", "prompty", "dag + 2 prompty". */
export function kindsLabel(flows: { kind: FlowKind }[]): string {
  const def = flows.find((f) => f.kind !== 'prompty');
  const prompties = flows.filter((f) => f.kind === 'prompty').length;
  const parts = [...(def ? [def.kind] : []), ...(prompties ? [prompties > 1 ? `${prompties} prompty` : 'prompty'] : [])];
  return parts.join(' + ');
}

const REMEDY =
  'Give a flow folder (with flow.dag.yaml or flow.flex.yaml), a flow file, a .prompty file, or a flex entry module:function of the current folder.';

/** A path as absolute, with the kind of flow file it is, or `file: undefined` for a folder; throws for anything else. */
function statFlowPath(given: string): { abs: string; file?: FlowKind } {
  const abs = path.resolve(given);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw new FlowSessionError('bad-input', `${kindOfFileName(abs) ? 'No such file' : 'No such folder'}: ${abs}`, REMEDY);
  }
  if (stat.isFile()) {
    const kind = kindOfFileName(abs);
    if (!kind) throw new FlowSessionError('bad-input', `Not a flow file: ${abs}`, REMEDY);
    return { abs, file: kind };
  }
  if (!stat.isDirectory()) throw new FlowSessionError('bad-input', `Not a file or folder: ${abs}`, REMEDY);
  return { abs };
}

const FLEX_ENTRY = /^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):([A-Za-z_]\w*)$/;

/** `module:function` (or `module:Class`) naming a module of the working folder, as a flex flow of that folder. */
function entryTarget(given: string): FlowTarget | undefined {
  const m = FLEX_ENTRY.exec(given);
  if (!m || fs.existsSync(path.resolve(given))) return undefined;
  const cwd = process.cwd();
  const module = path.join(cwd, ...m[1].split('.'));
  if (!isFile(`${module}.py`) && !isFile(path.join(module, '__init__.py')))
    throw new FlowSessionError(
      'bad-input',
      `No flow ${given}: it is neither a path nor the entry of a module in ${cwd} (${m[1].replace(/\./g, '/')}.py).`,
      REMEDY,
    );
  const dir = fs.realpathSync(cwd);
  entryFolders.add(dir);
  return { dir, kind: 'flex', file: FLEX_FILES[0], entry: given };
}

/** Folders an entry named in this process runs in: their session is a flow's session though they hold no flow file. */
const entryFolders = new Set<string>();

/** The text of a flow's definition: its file, or for an entry given in its place the flex definition it stands for. */
export async function definitionText(target: FlowTarget): Promise<string> {
  if (target.entry !== undefined) return `entry: ${target.entry}\n`;
  return fs.promises.readFile(path.join(target.dir, target.file), 'utf8');
}

/**
 * The flow a path names: a flow folder (its DAG, else its flex definition, else its only .prompty), a flow file
 * (flow.dag.yaml, flow.flex.yaml, their .yml forms), a .prompty file, or a flex entry `module:function` of a module in
 * the working folder. Throws a bad-input FlowSessionError otherwise.
 */
export function locateFlow(given: string): FlowTarget {
  const entry = entryTarget(given);
  if (entry) return entry;
  const { abs, file } = statFlowPath(given);
  if (file) return { dir: fs.realpathSync(path.dirname(abs)), kind: file, file: path.basename(abs) };
  const dir = fs.realpathSync(abs);
  const def = definitionFileIn(dir);
  if (def) return { dir, ...def };
  const prompties = promptyFilesIn(dir);
  if (prompties.length === 1) return { dir, kind: 'prompty', file: prompties[0] };
  if (prompties.length > 1)
    throw new FlowSessionError(
      'bad-input',
      `${abs} holds several .prompty files (${prompties.slice(0, 5).join(', ')}${prompties.length > 5 ? ', …' : ''}).`,
      'Name the .prompty file to use.',
    );
  throw new FlowSessionError('bad-input', `No flow in ${abs} (no flow.dag.yaml, flow.flex.yaml or .prompty file).`, REMEDY);
}

/**
 * The session folder of a path: a folder holding a flow of any kind (several .prompty files are fine: they share
 * it), or the folder of a flow file or a .prompty file. Throws a bad-input FlowSessionError otherwise.
 */
export function sessionFolderOf(given: string): string {
  const entry = entryTarget(given);
  if (entry) return entry.dir;
  const { abs, file } = statFlowPath(given);
  if (file) return fs.realpathSync(path.dirname(abs));
  if (!isFlowFolder(abs) && !entryFolders.has(fs.realpathSync(abs)))
    throw new FlowSessionError('bad-input', `No flow in ${abs} (no flow.dag.yaml, flow.flex.yaml or .prompty file).`, REMEDY);
  return fs.realpathSync(abs);
}
