import type { ConnectionShape, ConnectionSpec } from '../runtime/protocol';

/**
 * prompt flow's connection types, as `pf connection create --file` reads them (promptflow-core's
 * `promptflow.connections`): the YAML `type` (camel_to_snake of the class's TYPE), the class a tool's
 * parameter is annotated with, and the fields with their secrecy and defaults. One table for the CLI's
 * connection files and for VS Code's "Set Connection…".
 */
export interface ConnectionField {
  name: string;
  /** kept in secret storage / resolved from ${env:…}; never shown, logged or written */
  secret?: boolean;
  required?: boolean;
  default?: string;
  /** a hint for a text box */
  placeholder?: string;
}

export interface ConnectionTypeInfo {
  /** the class name tools are annotated with, and what the runtime receives as `type` */
  className: string;
  /** `type:` in a prompt flow connection file */
  yamlType: string;
  label: string;
  fields: ConnectionField[];
}

const apiKey: ConnectionField = { name: 'api_key', secret: true, required: true };
const optionalKey: ConnectionField = { name: 'api_key', secret: true };

export const CONNECTION_TYPES: readonly ConnectionTypeInfo[] = [
  {
    className: 'AzureOpenAIConnection',
    yamlType: 'azure_open_ai',
    label: 'Azure OpenAI',
    fields: [
      optionalKey,
      { name: 'api_base', required: true, placeholder: 'https://<resource>.openai.azure.com/' },
      { name: 'api_type', default: 'azure' },
      { name: 'api_version', default: '2024-02-01' },
      { name: 'auth_mode', default: 'key' },
    ],
  },
  {
    className: 'OpenAIConnection',
    yamlType: 'open_ai',
    label: 'OpenAI',
    fields: [apiKey, { name: 'organization' }, { name: 'base_url', placeholder: 'empty for https://api.openai.com/v1' }],
  },
  { className: 'SerpConnection', yamlType: 'serp', label: 'SerpAPI', fields: [apiKey] },
  {
    className: 'CognitiveSearchConnection',
    yamlType: 'cognitive_search',
    label: 'Azure AI Search (Cognitive Search)',
    fields: [
      optionalKey,
      { name: 'api_base', required: true },
      { name: 'api_version', default: '2023-11-01' },
      { name: 'auth_mode', default: 'key' },
    ],
  },
  {
    className: 'AzureContentSafetyConnection',
    yamlType: 'azure_content_safety',
    label: 'Azure AI Content Safety',
    fields: [
      apiKey,
      { name: 'endpoint', required: true },
      { name: 'api_version', default: '2023-10-01' },
      { name: 'api_type', default: 'Content Safety' },
    ],
  },
  {
    className: 'FormRecognizerConnection',
    yamlType: 'form_recognizer',
    label: 'Form Recognizer (Document Intelligence)',
    fields: [
      apiKey,
      { name: 'endpoint', required: true },
      { name: 'api_version', default: '2023-07-31' },
      { name: 'api_type', default: 'Form Recognizer' },
    ],
  },
  {
    className: 'ServerlessConnection',
    yamlType: 'serverless',
    label: 'Serverless endpoint',
    fields: [apiKey, { name: 'api_base', required: true }],
  },
  {
    className: 'AzureAIServicesConnection',
    yamlType: 'azure_ai_services',
    label: 'Azure AI Services',
    fields: [optionalKey, { name: 'endpoint', required: true }, { name: 'auth_mode', default: 'key' }],
  },
  { className: 'QdrantConnection', yamlType: 'qdrant', label: 'Qdrant', fields: [apiKey, { name: 'api_base', required: true }] },
  { className: 'WeaviateConnection', yamlType: 'weaviate', label: 'Weaviate', fields: [apiKey, { name: 'api_base', required: true }] },
  // free `configs` and `secrets`; with `custom_type` + `module` a CustomStrongTypeConnection subclass
  { className: 'CustomConnection', yamlType: 'custom', label: 'Custom (configs + secrets, or a custom strong type)', fields: [] },
];

const BY_NAME = new Map<string, ConnectionTypeInfo>();
for (const t of CONNECTION_TYPES) {
  BY_NAME.set(t.className.toLowerCase(), t);
  BY_NAME.set(t.yamlType, t);
  BY_NAME.set(t.yamlType.replace(/_/g, ''), t);
}

/** The type a file names: prompt flow's YAML type (`azure_open_ai`), its class name, or `openai`-style spellings. */
export function connectionTypeOf(name: string): ConnectionTypeInfo | undefined {
  return BY_NAME.get(name.trim().toLowerCase());
}

export function connectionTypeByClass(className: string): ConnectionTypeInfo | undefined {
  return CONNECTION_TYPES.find((t) => t.className === className);
}

/** Every YAML type name, for messages. */
export function connectionTypeNames(): string {
  return CONNECTION_TYPES.map((t) => t.yamlType).join(', ');
}

/** The connections as validation sees them: class names (and a strong type's class and module), no values. */
export function connectionShapes(connections: Record<string, ConnectionSpec>): Record<string, ConnectionShape> {
  const out: Record<string, ConnectionShape> = {};
  for (const [name, spec] of Object.entries(connections)) {
    const shape: ConnectionShape = { type: spec.type };
    if (typeof spec.custom_type === 'string') shape.custom_type = spec.custom_type;
    if (typeof spec.module === 'string') shape.module = spec.module;
    out[name] = shape;
  }
  return out;
}
