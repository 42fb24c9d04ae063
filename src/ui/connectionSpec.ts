import { connectionTypeByClass } from '../core/runs/connectionTypes';
import type { ConnectionShape, ConnectionSpec } from '../core/runtime/protocol';

/** What is kept in workspaceState about a connection: everything but its secrets (those are in SecretStorage). */
export interface ConnectionMeta {
  name: string;
  /** prompt flow's class name, e.g. AzureOpenAIConnection, CustomConnection */
  type: string;
  /** the non-secret fields of a built-in type (api_base, endpoint, api_version, …) */
  fields?: Record<string, string>;
  /** a custom connection's configs */
  configs?: Record<string, string>;
  /** the names of the secrets kept in SecretStorage (api_key, or a custom connection's own) */
  secretNames?: string[];
  /** a custom strong type connection: the CustomStrongTypeConnection subclass and its module */
  custom_type?: string;
  module?: string;
  /** what workspaces saved before every type had its fields */
  api_base?: string;
  api_version?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const PY_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PY_MODULE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
/** Fields that hold an address; a value that is given must be an http(s) URL. */
export const URL_FIELDS = new Set(['api_base', 'endpoint', 'base_url']);

export function checkConnectionName(name: string): string | undefined {
  return NAME.test(name) ? undefined : 'Letters, digits, _ . - (starting with a letter or _), at most 128 characters.';
}

export function checkApiBase(url: string, required: boolean): string | undefined {
  if (!url) return required ? 'This connection needs its endpoint, e.g. https://<resource>.openai.azure.com/' : undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? undefined : 'Use an http(s) URL.';
  } catch {
    return 'Not a URL.';
  }
}

export function checkPythonName(v: string): string | undefined {
  return PY_NAME.test(v) ? undefined : 'A Python class name, e.g. MyCustomConnection.';
}

export function checkModuleName(v: string): string | undefined {
  return PY_MODULE.test(v)
    ? undefined
    : 'A module path, e.g. my_tool_package.connections (for a class in the flow: the file name without .py).';
}

/** `key=value; key2=value2` (a config line of the wizard) as a map; a message when it does not read. */
export function parsePairs(text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const part of text.split(';')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    if (!key || !NAME.test(key)) return `Write key=value pairs separated by ';' (not '${part.trim()}').`;
    out[key] = part.slice(eq + 1).trim();
  }
  return out;
}

export function pairsText(pairs: Record<string, string> | undefined): string {
  return Object.entries(pairs ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
}

/** The secret names a connection keeps: a type's secret fields, or a custom connection's own. */
export function secretNamesOf(meta: ConnectionMeta): string[] {
  if (meta.secretNames) return meta.secretNames;
  const info = connectionTypeByClass(meta.type);
  return info && meta.type !== 'CustomConnection' ? info.fields.filter((f) => f.secret).map((f) => f.name) : ['api_key'];
}

/** The connection a run receives, as the CLI's connection files give it: the stored fields plus the secrets. */
export function connectionSpec(meta: ConnectionMeta, secrets: Record<string, string>): ConnectionSpec {
  const spec: ConnectionSpec = { type: meta.type };
  if (meta.type === 'CustomConnection') {
    if (meta.custom_type && meta.module) {
      spec.custom_type = meta.custom_type;
      spec.module = meta.module;
    }
    spec.configs = { ...(meta.api_base ? { api_base: meta.api_base } : {}), ...meta.configs };
    spec.secrets = { ...secrets };
    return spec;
  }
  if (meta.api_base) {
    spec.api_base = meta.api_base;
    if (meta.type === 'OpenAIConnection') spec.base_url = meta.api_base;
  }
  if (meta.api_version) spec.api_version = meta.api_version;
  for (const [k, v] of Object.entries(meta.fields ?? {})) if (v !== '') spec[k] = v;
  for (const [k, v] of Object.entries(secrets)) if (v !== '') spec[k] = v;
  return spec;
}

/** What validation on save knows of a stored connection. */
export function connectionShape(meta: ConnectionMeta): ConnectionShape {
  return meta.custom_type && meta.module ? { type: meta.type, custom_type: meta.custom_type, module: meta.module } : { type: meta.type };
}

/** Replaces (by name) or adds a connection in the stored list, keeping the list sorted. */
export function upsertConnection(list: readonly ConnectionMeta[], meta: ConnectionMeta): ConnectionMeta[] {
  return [...list.filter((c) => c.name !== meta.name), meta].sort((a, b) => a.name.localeCompare(b.name));
}
