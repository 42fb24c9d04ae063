import { promises as fsp } from 'fs';
import { listFlowFiles } from '../fs/flowArchive';
import type { PromptyDoc } from '../runtime/protocol';
import { readFlowEnvironment } from '../flow/environment';
import { fsProbe } from '../flow/sources';
import { analyzeFlexText } from '../flow/flexDocument';
import { flowToJson } from '../flow/flowInfo';
import { definitionText, FlowTarget, kindOfFileName } from '../flow/flowKind';
import { isMapping } from '../flow/flowModel';
import { FlowProblem } from '../flow/problem';
import { analyzePromptyText, envNamesOf } from '../flow/promptyDocument';
import { analyzeFlowDir } from '../flow/staticChecks';

/** A .prompty larger than this is not sent (the front matter and template of a real prompty are a few KB). */
const MAX_PROMPTY_BYTES = 1024 * 1024;
const MAX_PROMPTY_FILES = 200;
/** all of them together: every request carries them */
const MAX_PROMPTY_TOTAL_BYTES = 4 * 1024 * 1024;
/** what prompt flow reads when a prompty's configuration names neither a connection nor an endpoint (from_env) */
const IMPLICIT_ENV: Record<string, string[]> = {
  azure_openai: ['AZURE_OPENAI_ENDPOINT', 'AZURE_OPENAI_API_KEY', 'OPENAI_API_VERSION'],
  openai: ['OPENAI_API_KEY', 'OPENAI_BASE_URL'],
};

/** What a run, batch or validate request carries about its flow, whatever its kind. */
export interface FlowPayload {
  target: FlowTarget;
  /** flow.dag.yaml or flow.flex.yaml as JSON; {} for a prompty (its document is in `prompty`) */
  flow: Record<string, unknown> | undefined;
  /** every .prompty of the flow folder and its includes, parsed: the runtime has no YAML parser for Prompty.load */
  prompty: Record<string, PromptyDoc>;
  /** the values of the `${env:NAME}` names those files use, read from this process's environment (secrets: per request) */
  envValues: Record<string, string>;
  /** the static problems of the flow file (the DAG's checks, or the flex or prompty checks) */
  problems: FlowProblem[];
}

/**
 * Reads a flow for the runtime: its definition, its .prompty files and the environment values they name (and those
 * a flex flow's definition or `init` values name, for the model configurations made from them).
 */
export async function readFlowPayload(
  target: FlowTarget,
  env: NodeJS.ProcessEnv = process.env,
  init?: Record<string, unknown>,
): Promise<FlowPayload> {
  let flow: Record<string, unknown> | undefined;
  let problems: FlowProblem[];
  if (target.kind === 'dag') {
    const analysis = await analyzeFlowDir(target.dir);
    problems = analysis.problems;
    flow = flowToJson(analysis.parsed) as Record<string, unknown> | undefined;
  } else if (target.kind === 'flex') {
    const analysis = analyzeFlexText(await definitionText(target), target.file, fsProbe(target.dir));
    problems = analysis.problems;
    flow = analysis.value;
  } else {
    problems = analyzePromptyText(await definitionText(target), target.file).problems;
    flow = {};
  }
  const prompty = await readPromptyDocs(target.dir);
  const names = new Set<string>();
  for (const doc of Object.values(prompty)) for (const n of envNamesUsed(doc.config)) names.add(n);
  if (target.kind === 'flex') for (const n of [...envNamesOf(flow), ...envNamesOf(init)]) names.add(n);
  const envValues: Record<string, string> = {};
  for (const name of names) if (typeof env[name] === 'string') envValues[name] = env[name] as string;
  return { target, flow, prompty, envValues, problems };
}

/** The `${env:NAME}` names of a prompty's front matter, plus those prompt flow reads when it names no endpoint. */
export function envNamesUsed(config: unknown): string[] {
  const names = envNamesOf(config);
  const conf =
    isMapping(config) && isMapping(config.model) && isMapping(config.model.configuration) ? config.model.configuration : undefined;
  if (conf && !conf.connection) {
    const azure = conf.type === 'azure_openai' || conf.type === 'AzureOpenAI';
    const openai = conf.type === 'openai' || conf.type === 'OpenAI';
    if ((azure && !conf.azure_endpoint) || (openai && !conf.api_key))
      for (const n of IMPLICIT_ENV[azure ? 'azure_openai' : 'openai']) if (!names.includes(n)) names.push(n);
  }
  return names;
}

/** The .prompty files of a flow folder and its additional includes, parsed for the runtime. */
export async function readPromptyDocs(dir: string): Promise<Record<string, PromptyDoc>> {
  let includes: string[] = [];
  try {
    includes = readFlowEnvironment(dir).additionalIncludes;
  } catch {
    // an unreadable definition is reported by the static checks; the folder's own files still count
  }
  let files;
  try {
    files = listFlowFiles(dir, includes);
  } catch {
    files = listFlowFiles(dir);
  }
  const out: Record<string, PromptyDoc> = {};
  let total = 0;
  for (const f of files.filter((x) => !x.dir && kindOfFileName(x.name) === 'prompty').slice(0, MAX_PROMPTY_FILES)) {
    if (f.size > MAX_PROMPTY_BYTES || total + f.size > MAX_PROMPTY_TOTAL_BYTES) {
      const why =
        f.size > MAX_PROMPTY_BYTES ? `the file is larger than ${MAX_PROMPTY_BYTES / 1024} KB` : "the flow's .prompty files pass 4 MB";
      out[f.name] = { config: {}, template: '', templateLine: 1, error: why };
      continue;
    }
    total += f.size;
    const a = analyzePromptyText(await fsp.readFile(f.abs, 'utf8'), f.name);
    const fatal = a.problems.find((p) => p.severity === 'error' && (p.code === 'YamlParseError' || a.config === undefined));
    out[f.name] = fatal
      ? { config: {}, template: a.template, templateLine: a.templateLine, error: `${fatal.message} (line ${fatal.line})` }
      : { config: a.config ?? {}, template: a.template, templateLine: a.templateLine };
  }
  return out;
}
