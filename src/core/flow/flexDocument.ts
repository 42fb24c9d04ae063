import { ParsedFlow, parseFlowDocument, YamlPath } from './dagDocument';
import { buildModel, isMapping, Mapping } from './flowModel';
import { msg } from './messages';
import { FlowProblem } from './problem';
import { ProblemSink } from './problemSink';
import { checkIncludes, type PathProbe } from './sources';

const DEF = 'FlowDefinitionError';
const UNKNOWN = 'UnknownField';

// prompt flow's FlexFlowSchema (devkit _sdk/schemas/_flow.py) with the BaseFlowSchema fields it extends
const TOP_KEYS = new Set([
  '$schema',
  'entry',
  'inputs',
  'outputs',
  'init',
  'sample',
  'code',
  'additional_includes',
  'environment',
  'environment_variables',
  'type',
  'language',
  'description',
  'display_name',
  'tags',
]);
const PORT_KEYS = new Set(['type', 'description', 'default', 'is_chat_input', 'is_chat_history', 'is_chat_output', 'reference']);
export const FLEX_VALUE_TYPES = ['string', 'int', 'double', 'bool', 'list', 'object'];
/** the types an `init` parameter may have besides the value types (connections and model configurations) */
export const FLEX_INIT_TYPES = [
  'AzureOpenAIConnection',
  'OpenAIConnection',
  'CustomConnection',
  'SerpConnection',
  'QdrantConnection',
  'CognitiveSearchConnection',
  'FormRecognizerConnection',
  'AzureContentSafetyConnection',
  'WeaviateConnection',
  'ServerlessConnection',
  'AzureAIServicesConnection',
  'AzureOpenAIModelConfiguration',
  'OpenAIModelConfiguration',
];
/** `module.path:function` or `module.path:Class` (prompt flow's is_flex_flow_entry) */
const ENTRY = /^[A-Za-z_][\w.]*:[A-Za-z_]\w*$/;

export interface FlexAnalysis {
  parsed: ParsedFlow;
  /** the definition as plain JSON; undefined when the YAML could not be read */
  value: Mapping | undefined;
  /** the entry's module file as prompt flow imports it from the flow folder (`a.b:f` -> a/b.py), when the entry is valid */
  entryModule?: string;
  problems: FlowProblem[];
}

/**
 * The static checks of a flow.flex.yaml text: YAML, known keys, the entry, the port types, sample and environment
 * shapes; with `probe` (the flow folder), its additional_includes as for DAG flows (missing, refused).
 */
export function analyzeFlexText(input: string | Uint8Array, file = 'flow.flex.yaml', probe?: PathProbe): FlexAnalysis {
  const parsed = parseFlowDocument(input, file);
  if (parsed.problems.length > 0) return { parsed, value: undefined, problems: parsed.problems };
  const sink = new ProblemSink(parsed);
  if (parsed.value !== null && !isMapping(parsed.value)) {
    sink.error(DEF, msg.notMapping('The flow definition'), []);
    return { parsed, value: undefined, problems: sink.problems };
  }
  const root = isMapping(parsed.value) ? parsed.value : {};
  for (const key of Object.keys(root)) if (!TOP_KEYS.has(key)) sink.warning(UNKNOWN, msg.unknownField(key, 'the flex flow'), [key], 'key');
  let entryModule: string | undefined;
  if (root.entry === undefined || root.entry === null) {
    sink.error(DEF, `The flex flow has no 'entry': give the function or class to run, as 'module:function' or 'module:Class'.`, []);
  } else if (typeof root.entry !== 'string' || !ENTRY.test(root.entry.trim())) {
    sink.error(DEF, `Entry function ${String(root.entry)} is not valid: write it as 'module:function' or 'module:Class'.`, ['entry']);
  } else {
    entryModule = `${root.entry.trim().split(':')[0].split('.').join('/')}.py`;
  }
  checkPorts(root, 'inputs', FLEX_VALUE_TYPES, sink);
  checkPorts(root, 'outputs', FLEX_VALUE_TYPES, sink);
  checkPorts(root, 'init', [...FLEX_VALUE_TYPES, ...FLEX_INIT_TYPES], sink);
  if (root.sample != null) {
    if (!isMapping(root.sample)) sink.error(DEF, msg.notMapping("'sample'"), ['sample']);
    else
      for (const [key, v] of Object.entries(root.sample)) {
        if (key !== 'inputs' && key !== 'init')
          sink.error(DEF, `'sample' takes 'inputs' and 'init', not '${key}'.`, ['sample', key], 'key');
        else if (v != null && !isMapping(v) && !(typeof v === 'string' && /^\$\{file:.+\}$/.test(v.trim())))
          sink.error(DEF, `'sample.${key}' must be a mapping or '\${file:<path>.json}'.`, ['sample', key]);
      }
  }
  for (const key of ['environment', 'environment_variables']) {
    if (root[key] != null && !isMapping(root[key])) sink.error(DEF, msg.notMapping(`'${key}'`), [key]);
  }
  if (probe) checkIncludes(buildModel(root), probe, sink);
  else if (root.additional_includes != null && !Array.isArray(root.additional_includes))
    sink.error(DEF, msg.notList("'additional_includes'"), ['additional_includes']);
  return { parsed, value: root, entryModule, problems: sink.problems };
}

function checkPorts(root: Mapping, section: string, types: string[], sink: ProblemSink): void {
  const ports = root[section];
  if (ports == null) return;
  if (!isMapping(ports)) {
    sink.error(DEF, msg.notMapping(`'${section}'`), [section]);
    return;
  }
  for (const [name, def] of Object.entries(ports)) {
    const at: YamlPath = [section, name];
    if (!isMapping(def)) {
      sink.error(DEF, msg.notMapping(`'${section}.${name}'`), at, def == null ? 'key' : 'value');
      continue;
    }
    for (const key of Object.keys(def))
      if (!PORT_KEYS.has(key)) sink.warning(UNKNOWN, msg.unknownField(key, `'${section}.${name}'`), [...at, key], 'key');
    if (def.type === undefined || def.type === null) {
      // prompt flow derives the types from the signature; the YAML need not repeat them
      continue;
    }
    if (!types.includes(String(def.type)))
      sink.error(DEF, `The type '${String(def.type)}' of '${section}.${name}' is not one of: ${types.join(', ')}.`, [...at, 'type']);
  }
}
