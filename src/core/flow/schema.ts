import { YamlPath } from './dagDocument';
import { FlowModel, isMapping, Mapping, NodeDef } from './flowModel';
import { msg } from './messages';
import { ProblemSink } from './problemSink';

const DEF = 'FlowDefinitionError';
const UNKNOWN = 'UnknownField';

// Keys prompt flow reads (contracts/flow.py, _sdk/schemas/_flow.py); anything else is ignored by it.
const TOP_KEYS = new Set([
  '$schema',
  'id',
  'name',
  'inputs',
  'outputs',
  'nodes',
  'node_variants',
  'environment',
  'environment_variables',
  'additional_includes',
  'type',
  'language',
  'description',
  'display_name',
  'tags',
  'message_format',
]);
const INPUT_KEYS = new Set(['type', 'default', 'description', 'enum', 'is_chat_input', 'is_chat_history']);
const OUTPUT_KEYS = new Set(['type', 'reference', 'description', 'is_chat_output', 'evaluation_only']);
const NODE_KEYS = new Set([
  'name',
  'type',
  'source',
  'inputs',
  'connection',
  'api',
  'provider',
  'module',
  'aggregation',
  'reduce',
  'use_variants',
  'activate',
  'comment',
  'enable_cache',
  'tool',
]);
const VARIANT_SPEC_KEYS = new Set(['default_variant_id', 'variants']);
const VARIANT_KEYS = new Set(['node', 'description']);
export const NODE_TYPES = ['python', 'llm', 'prompt', 'custom_llm'];
/** promptflow.contracts.tool.ValueType */
export const VALUE_TYPES = [
  'int',
  'double',
  'bool',
  'string',
  'list',
  'object',
  'image',
  'secret',
  'prompt_template',
  'file_path',
  'assistant_definition',
];
const FLOW_TYPES = ['standard', 'evaluation', 'chat'];
const SOURCE_TYPES = ['code', 'package', 'package_with_prompt'];

/** A source file a node names, to be checked on disk. */
export interface SourceRef {
  node: string;
  path: string;
  /** YAML path of the `path` scalar */
  at: YamlPath;
}

/** Shape checks of the whole flow; returns the source files named by well-formed sources. */
export function checkSchema(model: FlowModel, sink: ProblemSink): SourceRef[] {
  const { root } = model;
  if (!isMapping(root) || Object.keys(root).length === 0) return [];
  unknownKeys(root, TOP_KEYS, [], 'the flow', sink);
  if (root.type !== undefined && !FLOW_TYPES.includes(String(root.type))) sink.error(DEF, msg.badFlowType(String(root.type)), ['type']);
  checkPorts(root.inputs, 'input', INPUT_KEYS, sink);
  checkPorts(root.outputs, 'output', OUTPUT_KEYS, sink);
  for (const key of ['environment', 'environment_variables', 'tags'] as const) {
    if (root[key] != null && !isMapping(root[key])) sink.error(DEF, msg.notMapping(`'${key}'`), [key]);
  }
  const sources: SourceRef[] = [];
  if (root.nodes != null && !Array.isArray(root.nodes)) sink.error(DEF, msg.notList("'nodes'"), ['nodes']);
  if (Array.isArray(root.nodes)) {
    root.nodes.forEach((n, i) => {
      if (!isMapping(n)) sink.error(DEF, msg.notMapping(`Node ${i}`), ['nodes', i]);
      else if (typeof n.name !== 'string' || n.name === '')
        sink.error(DEF, msg.missingName(i), n.name === undefined ? ['nodes', i] : ['nodes', i, 'name']);
    });
  }
  for (const node of model.nodes) {
    // a use_variants node takes everything from its variants; its own type and source are not used
    const usesVariants = node.body.use_variants === true && model.variants.some((v) => v.name === node.name);
    checkNode(node, NODE_KEYS, !usesVariants, sink, sources);
  }
  checkVariantSpecs(root.node_variants, sink);
  for (const v of model.variants) checkNode(v, NODE_KEYS, true, sink, sources);
  return sources;
}

function unknownKeys(obj: Mapping, known: Set<string>, path: YamlPath, where: string, sink: ProblemSink): void {
  for (const key of Object.keys(obj)) {
    if (!known.has(key)) sink.warning(UNKNOWN, msg.unknownField(key, where), [...path, key], 'key');
  }
}

function checkPorts(ports: unknown, kind: 'input' | 'output', known: Set<string>, sink: ProblemSink): void {
  const section = `${kind}s`;
  if (ports == null) return;
  if (!isMapping(ports)) {
    sink.error(DEF, msg.notMapping(`'${section}'`), [section]);
    return;
  }
  for (const [name, def] of Object.entries(ports)) {
    if (!isMapping(def)) {
      sink.error(DEF, msg.notMapping(`Flow ${kind} '${name}'`), [section, name], def == null ? 'key' : 'value');
      continue;
    }
    unknownKeys(def, known, [section, name], `flow ${kind} '${name}'`, sink);
    if (def.type === undefined || def.type === null) sink.error(DEF, msg.missingValueType(kind, name), [section, name], 'key');
    else if (!VALUE_TYPES.includes(String(def.type)))
      sink.error(DEF, msg.badValueType(kind, name, String(def.type), VALUE_TYPES), [section, name, 'type']);
  }
}

function checkVariantSpecs(spec: unknown, sink: ProblemSink): void {
  if (spec == null) return;
  if (!isMapping(spec)) {
    sink.error(DEF, msg.notMapping("'node_variants'"), ['node_variants']);
    return;
  }
  for (const [name, s] of Object.entries(spec)) {
    const at = ['node_variants', name];
    if (!isMapping(s) || !isMapping(s.variants)) {
      sink.error(DEF, msg.notMapping(`'variants' of node_variants '${name}'`), isMapping(s) ? [...at, 'variants'] : at);
      continue;
    }
    unknownKeys(s, VARIANT_SPEC_KEYS, at, `node_variants '${name}'`, sink);
    for (const [id, v] of Object.entries(s.variants)) {
      if (!isMapping(v) || !isMapping(v.node)) {
        sink.error(
          DEF,
          msg.notMapping(`'node' of variant '${id}' of '${name}'`),
          isMapping(v) ? [...at, 'variants', id, 'node'] : [...at, 'variants', id],
        );
        continue;
      }
      unknownKeys(v, VARIANT_KEYS, [...at, 'variants', id], `variant '${id}' of '${name}'`, sink);
    }
  }
}

function checkNode(node: NodeDef, known: Set<string>, checkTool: boolean, sink: ProblemSink, sources: SourceRef[]): void {
  const { body, path } = node;
  const name = node.name ?? '';
  const where = node.variant ? `variant '${node.variant.id}' of node '${name}'` : `node '${name}'`;
  unknownKeys(body, known, path, where, sink);
  if (body.inputs != null && !isMapping(body.inputs)) sink.error(DEF, msg.notMapping(`'inputs' of ${where}`), [...path, 'inputs']);
  checkActivate(node, sink);
  if (!checkTool) return;
  const type = body.type;
  if (type === undefined || type === null) {
    sink.error(DEF, msg.missingNodeType(name), node.variant ? path : [...path, 'name']);
  } else if (!NODE_TYPES.includes(String(type))) {
    sink.error(DEF, msg.badNodeType(String(type), name), [...path, 'type']);
  }
  checkSource(node, NODE_TYPES.includes(String(type)) ? String(type) : undefined, sink, sources);
}

function checkActivate(node: NodeDef, sink: ProblemSink): void {
  const a = node.body.activate;
  if (a === undefined) return;
  if (!isMapping(a) || !('when' in a) || !('is' in a)) {
    sink.error(DEF, msg.badActivate(node.name ?? ''), [...node.path, 'activate'], 'key');
  }
}

function checkSource(node: NodeDef, type: string | undefined, sink: ProblemSink, sources: SourceRef[]): void {
  const { body, path } = node;
  const name = node.name ?? '';
  const src = body.source;
  if (src === undefined || src === null) {
    sink.error('InvalidSource', msg.noSource(name), node.variant ? path : [...path, 'name']);
    return;
  }
  const at = [...path, 'source'];
  if (!isMapping(src)) {
    sink.error(DEF, msg.notMapping(`'source' of node '${name}'`), at, 'key');
    return;
  }
  const srcType = src.type === undefined ? 'code' : String(src.type);
  if (!SOURCE_TYPES.includes(srcType)) {
    sink.error(DEF, msg.badSourceType(srcType, name), [...at, 'type']);
    return;
  }
  if (type === 'python' && srcType === 'package_with_prompt')
    sink.error(DEF, msg.sourceTypeNotSupported(srcType, type, name), [...at, 'type']);
  if (type === 'custom_llm' && srcType !== 'package_with_prompt')
    sink.error(
      DEF,
      msg.sourceTypeNotSupported(srcType, type, name),
      src.type === undefined ? at : [...at, 'type'],
      src.type === undefined ? 'key' : 'value',
    );
  const needsTool = srcType !== 'code' && (type === 'python' || type === 'custom_llm' || type === undefined);
  if (needsTool && (typeof src.tool !== 'string' || src.tool === ''))
    sink.error(DEF, msg.missingPackageTool(name), src.tool === undefined ? at : [...at, 'tool'], src.tool === undefined ? 'key' : 'value');
  // a python package tool is code the image provides; every other source reads a file of the flow
  const needsPath = !(type === 'python' && srcType === 'package') && !(type === undefined && srcType === 'package');
  if (!needsPath) return;
  if (typeof src.path !== 'string' || src.path === '') {
    sink.error(
      'InvalidSource',
      msg.invalidSource(typeof src.path === 'string' ? src.path : null, name),
      src.path === undefined ? at : [...at, 'path'],
      src.path === undefined ? 'key' : 'value',
    );
    return;
  }
  sources.push({ node: name, path: src.path, at: [...at, 'path'] });
}
