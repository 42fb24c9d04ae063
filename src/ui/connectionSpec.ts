import type { ConnectionSpec } from '../core/runtime/protocol';

export type ConnectionKind = 'AzureOpenAIConnection' | 'OpenAIConnection' | 'CustomConnection';

/** What is kept in workspaceState about a connection: everything but its key. */
export interface ConnectionMeta {
  name: string;
  type: ConnectionKind;
  api_base?: string;
  api_version?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

export function checkConnectionName(name: string): string | undefined {
  return NAME.test(name) ? undefined : 'Letters, digits, _ . - (starting with a letter or _), at most 128 characters.';
}

export function checkApiBase(url: string, required: boolean): string | undefined {
  if (!url) return required ? 'An Azure OpenAI connection needs its endpoint, e.g. https://<resource>.openai.azure.com/' : undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? undefined : 'Use an http(s) URL.';
  } catch {
    return 'Not a URL.';
  }
}

/** The connection a run receives: the stored fields plus the key from SecretStorage. */
export function connectionSpec(meta: ConnectionMeta, key: string | undefined): ConnectionSpec {
  const spec: ConnectionSpec = { type: meta.type };
  if (meta.type === 'CustomConnection') {
    spec.secrets = key ? { api_key: key } : {};
    spec.configs = meta.api_base ? { api_base: meta.api_base } : {};
    return spec;
  }
  if (key) spec.api_key = key;
  if (meta.api_base) {
    spec.api_base = meta.api_base;
    if (meta.type === 'OpenAIConnection') spec.base_url = meta.api_base;
  }
  if (meta.api_version) spec.api_version = meta.api_version;
  return spec;
}

/** Replaces (by name) or adds a connection in the stored list, keeping the list sorted. */
export function upsertConnection(list: readonly ConnectionMeta[], meta: ConnectionMeta): ConnectionMeta[] {
  return [...list.filter((c) => c.name !== meta.name), meta].sort((a, b) => a.name.localeCompare(b.name));
}
