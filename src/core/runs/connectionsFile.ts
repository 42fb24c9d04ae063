import * as fs from 'fs';
import { yaml } from '../vendor';
import { FlowSessionError } from '../errors';
import type { ConnectionSpec } from '../runtime/protocol';

const TYPE_NAMES: Record<string, string> = {
  open_ai: 'OpenAIConnection',
  openai: 'OpenAIConnection',
  azure_open_ai: 'AzureOpenAIConnection',
  azure_openai: 'AzureOpenAIConnection',
  custom: 'CustomConnection',
};
const KNOWN = new Set(['OpenAIConnection', 'AzureOpenAIConnection', 'CustomConnection']);
const ENV_REF = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;

/**
 * Reads a connections file for the CLI: a list (or a map by name) of prompt flow connections with
 * `name`, `type`, `api_base`, `api_version`…; secrets are written as `${env:VAR}` and resolved here, so
 * they never sit in the file and never reach anything but the run request.
 */
export function readConnectionsFile(file: string, env: NodeJS.ProcessEnv = process.env): Record<string, ConnectionSpec> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new FlowSessionError(
      'bad-input',
      `Connections file not found: ${file}`,
      'Give a YAML file listing connections (name, type, api_base, api_key: ${env:VAR}).',
    );
  }
  const { isMap, isSeq, parseDocument } = yaml();
  const doc = parseDocument(text);
  if (doc.errors.length)
    throw new FlowSessionError(
      'bad-input',
      `${file}: malformed YAML: ${doc.errors[0].message.split('\n')[0]}`,
      'Fix the connections file.',
    );
  const value = doc.toJS({ maxAliasCount: 50 }) as unknown;
  let entries: [string | undefined, Record<string, unknown>][] = [];
  if (isSeq(doc.contents) && Array.isArray(value)) {
    entries = value.map((v) => [undefined, v as Record<string, unknown>]);
  } else if (isMap(doc.contents) && value && typeof value === 'object') {
    const map = value as Record<string, unknown>;
    entries = Array.isArray(map.connections)
      ? (map.connections as Record<string, unknown>[]).map((v) => [undefined, v])
      : Object.entries(map).map(([k, v]) => [k, v as Record<string, unknown>]);
  }
  const out: Record<string, ConnectionSpec> = {};
  for (const [key, raw] of entries) {
    if (!raw || typeof raw !== 'object')
      throw new FlowSessionError(
        'bad-input',
        `${file}: each connection must be a mapping.`,
        'See the README for the connections file format.',
      );
    const name = String(raw.name ?? key ?? '');
    if (!name) throw new FlowSessionError('bad-input', `${file}: a connection has no name.`, 'Give each connection a `name`.');
    const rawType = String(raw.type ?? '');
    const type = TYPE_NAMES[rawType.toLowerCase()] ?? rawType;
    if (!KNOWN.has(type))
      throw new FlowSessionError(
        'bad-input',
        `${file}: connection '${name}' has type '${rawType}'.`,
        'Use azure_open_ai, open_ai or custom.',
      );
    const spec: ConnectionSpec = { type };
    for (const [k, v] of Object.entries(raw)) {
      if (k === 'name' || k === 'type') continue;
      spec[k] = resolveSecrets(v, env, file, name);
    }
    out[name] = spec;
  }
  return out;
}

function resolveSecrets(v: unknown, env: NodeJS.ProcessEnv, file: string, name: string): unknown {
  if (typeof v === 'string') {
    const m = ENV_REF.exec(v.trim());
    if (!m) return v;
    const value = env[m[1]];
    if (value === undefined)
      throw new FlowSessionError(
        'bad-input',
        `${file}: connection '${name}' needs the environment variable ${m[1]}, which is not set.`,
        `Set ${m[1]} before running.`,
      );
    return value;
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveSecrets(x, env, file, name)]));
  }
  return v;
}
