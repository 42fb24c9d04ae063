import { ParsedFlow, parseFlowDocument, YamlPath } from './dagDocument';
import { isMapping, Mapping } from './flowModel';
import { msg } from './messages';
import { FlowProblem } from './problem';
import { ProblemSink } from './problemSink';

const DEF = 'FlowDefinitionError';
const UNKNOWN = 'UnknownField';

// prompt flow's PromptySchema and Prompty (front matter fields it reads), plus the Prompty specification's metadata
const TOP_KEYS = new Set([
  '$schema',
  'name',
  'description',
  'version',
  'authors',
  'tags',
  'model',
  'inputs',
  'outputs',
  'sample',
  'template',
  'additional_includes',
  'environment',
  'environment_variables',
  'type',
  'language',
  'display_name',
]);
const MODEL_KEYS = new Set(['api', 'configuration', 'parameters', 'response']);
const CONFIG_KEYS = new Set([
  'type',
  'connection',
  'azure_deployment',
  'azure_endpoint',
  'api_version',
  'api_key',
  'organization',
  'model',
  'base_url',
]);
/** configuration types prompt flow turns into a connection (convert_model_configuration_to_connection) */
const AZURE_TYPES = ['azure_openai', 'AzureOpenAI'];
const OPENAI_TYPES = ['openai', 'OpenAI'];
/** the fields that configure the endpoint themselves, which a `connection` excludes (PromptyModelConfiguration) */
const SELF_CONFIG = ['azure_endpoint', 'api_key', 'api_version', 'organization', 'base_url'];
export const PROMPTY_ROLES = ['system', 'user', 'assistant', 'function', 'tool'];
/** lines that parse_chat reads inside a message rather than as a role */
const SUB_MARKERS = new Set(['name', 'content', 'tool_call_id', 'tool_calls']);
/** `# word:` alone on a line is a role marker to prompt flow; one it does not know fails the call */
const ROLE_LIKE = /^\s*#\s*([A-Za-z_][\w-]*)\s*:\s*$/;
const ENV_REF = /^\$\{env:([^}]+)\}$/i;

export interface PromptyAnalysis {
  parsed: ParsedFlow | undefined;
  /** the front matter as plain JSON; undefined when it could not be read */
  config: Mapping | undefined;
  /** the Jinja template after the front matter */
  template: string;
  /** 1-based line of the template's first line in the file */
  templateLine: number;
  problems: FlowProblem[];
}

/**
 * Splits a .prompty into its YAML front matter (between `---` lines at the top) and its template, and checks the
 * front matter: YAML, known keys, the model configuration each type needs, and role lines prompt flow refuses.
 * Positions are in the .prompty file itself.
 */
export function analyzePromptyText(text: string, file: string): PromptyAnalysis {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  // blank lines may come before the front matter: prompt flow looks for the first `---` line, not at line 1
  const openAt = lines.findIndex((l) => l.trim() !== '');
  const open = openAt >= 0 && /^-{3,}\s*$/.test(lines[openAt]);
  const closeAt = open ? lines.findIndex((l, i) => i > openAt && /^-{3,}\s*$/.test(l)) : -1;
  if (!open || closeAt < 0) {
    const problem: FlowProblem = {
      code: DEF,
      message:
        'Illegal formatting of prompty: it starts with YAML front matter between two --- lines (the model and its inputs), followed by the prompt template.',
      file,
      line: openAt + 1 || 1,
      column: 1,
      endLine: openAt + 1 || 1,
      endColumn: Math.max(2, (lines[Math.max(openAt, 0)] ?? '').length + 1),
      severity: 'error',
    };
    return { parsed: undefined, config: undefined, template: text, templateLine: 1, problems: [problem] };
  }
  const front = lines.slice(openAt + 1, closeAt).join('\n');
  const template = lines.slice(closeAt + 1).join('\n');
  const templateLine = closeAt + 2;
  const parsed = parseFlowDocument(front, file);
  const shift = (p: FlowProblem): FlowProblem => ({ ...p, line: p.line + openAt + 1, endLine: p.endLine + openAt + 1 });
  const templateProblems = checkRoles(template, templateLine, file);
  if (parsed.problems.length > 0)
    return { parsed, config: undefined, template, templateLine, problems: [...parsed.problems.map(shift), ...templateProblems] };
  const sink = new ProblemSink(parsed);
  const root = isMapping(parsed.value) ? parsed.value : {};
  if (parsed.value !== null && !isMapping(parsed.value)) sink.error(DEF, msg.notMapping('The prompty front matter'), []);
  else checkFront(root, sink);
  return {
    parsed,
    config: isMapping(parsed.value) ? parsed.value : {},
    template,
    templateLine,
    problems: [...sink.problems.map(shift), ...templateProblems],
  };
}

// A warning, not an error: prompt flow loads such a prompty when the code that loads it supplies the configuration.
const NO_CONFIGURATION =
  "The prompty has no model.configuration: it runs only where code loads it with one (Prompty.load(source, model={'configuration': ...})). " +
  'To run it alone, give the type (azure_openai or openai) and the deployment or model.';

function checkFront(root: Mapping, sink: ProblemSink): void {
  for (const key of Object.keys(root)) if (!TOP_KEYS.has(key)) sink.warning(UNKNOWN, msg.unknownField(key, 'the prompty'), [key], 'key');
  for (const key of ['inputs', 'outputs', 'environment', 'environment_variables'])
    if (root[key] != null && !isMapping(root[key])) sink.error(DEF, msg.notMapping(`'${key}'`), [key]);
  if (root.sample != null && !isMapping(root.sample) && !(typeof root.sample === 'string' && /\.json\}?$/i.test(root.sample.trim())))
    sink.error(DEF, "'sample' must be a mapping of input values, the path of a .json file or '${file:<path>.json}'.", ['sample']);
  const model = root.model;
  if (model == null) {
    sink.warning(DEF, NO_CONFIGURATION, []);
    return;
  }
  if (!isMapping(model)) {
    sink.error(DEF, msg.notMapping("'model'"), ['model']);
    return;
  }
  for (const key of Object.keys(model))
    if (!MODEL_KEYS.has(key)) sink.warning(UNKNOWN, msg.unknownField(key, "'model'"), ['model', key], 'key');
  if (model.api != null && model.api !== 'chat' && model.api !== 'completion')
    sink.error(DEF, `model.api must be 'chat' or 'completion', not '${String(model.api)}'.`, ['model', 'api']);
  if (model.response != null && model.response !== 'first' && model.response !== 'all')
    sink.error(DEF, `model.response must be 'first' or 'all', not '${String(model.response)}'.`, ['model', 'response']);
  if (model.parameters != null && !isMapping(model.parameters))
    sink.error(DEF, msg.notMapping("'model.parameters'"), ['model', 'parameters']);
  const rf = isMapping(model.parameters) ? model.parameters.response_format : undefined;
  if (rf != null && !(isMapping(rf) && (rf.type === 'text' || rf.type === 'json_object')))
    sink.error(DEF, 'model.parameters.response_format must be {type: text} or {type: json_object}.', [
      'model',
      'parameters',
      'response_format',
    ]);
  checkConfiguration(model.configuration, sink);
}

function checkConfiguration(config: unknown, sink: ProblemSink): void {
  const at: YamlPath = ['model', 'configuration'];
  if (config == null) {
    sink.warning(DEF, NO_CONFIGURATION, ['model'], 'key');
    return;
  }
  if (!isMapping(config)) {
    sink.error(DEF, msg.notMapping("'model.configuration'"), at);
    return;
  }
  for (const key of Object.keys(config))
    if (!CONFIG_KEYS.has(key)) sink.warning(UNKNOWN, msg.unknownField(key, "'model.configuration'"), [...at, key], 'key');
  const type = config.type;
  const azure = AZURE_TYPES.includes(String(type));
  const openai = OPENAI_TYPES.includes(String(type));
  if (type == null) sink.error(DEF, "model.configuration has no 'type': azure_openai or openai.", at, 'key');
  else if (!azure && !openai)
    sink.error(DEF, `Not Support connection type ${String(type)}: model.configuration.type must be azure_openai or openai.`, [
      ...at,
      'type',
    ]);
  if (azure && !config.azure_deployment)
    sink.error(DEF, "An azure_openai model configuration needs 'azure_deployment' (the deployment to call).", at, 'key');
  if (openai && !config.model) sink.error(DEF, "An openai model configuration needs 'model' (the model to call).", at, 'key');
  if (config.connection != null) {
    if (typeof config.connection !== 'string' || !config.connection.trim())
      sink.error(DEF, 'model.configuration.connection must be the name of a connection.', [...at, 'connection']);
    const both = SELF_CONFIG.filter((k) => config[k] != null && config[k] !== '');
    if (both.length)
      sink.error(
        DEF,
        `Cannot configure model config and connection in configuration at the same time (${both.join(', ')} and connection).`,
        [...at, both[0]],
      );
  }
}

/** Role lines (`# word:`) of the template that prompt flow's chat parsing refuses, placed on their line. */
function checkRoles(template: string, firstLine: number, file: string): FlowProblem[] {
  const out: FlowProblem[] = [];
  template.split('\n').forEach((line, i) => {
    const m = ROLE_LIKE.exec(line);
    if (!m) return;
    const word = m[1].toLowerCase();
    if (PROMPTY_ROLES.includes(word) || SUB_MARKERS.has(word)) return;
    const column = line.indexOf(m[1]) + 1;
    out.push({
      code: 'ChatAPIInvalidRole',
      message: `'${m[1]}' is not a role prompt flow accepts: the chat prompt's role lines are ${PROMPTY_ROLES.map((r) => `'${r}:'`).join(', ')}.`,
      file,
      line: firstLine + i,
      column,
      endLine: firstLine + i,
      endColumn: column + m[1].length,
      severity: 'error',
    });
  });
  return out;
}

/** The names of the environment variables the front matter reads (`${env:NAME}` values), in order of first use. */
export function envNamesOf(config: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      const m = ENV_REF.exec(v.trim());
      if (m && !out.includes(m[1])) out.push(m[1]);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (isMapping(v)) Object.values(v).forEach(walk);
  };
  walk(config);
  return out;
}
