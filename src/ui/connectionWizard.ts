import { CONNECTION_TYPES, connectionTypeByClass, type ConnectionField } from '../core/runs/connectionTypes';
import {
  checkApiBase,
  checkConnectionName,
  checkModuleName,
  checkPythonName,
  pairsText,
  parsePairs,
  URL_FIELDS,
  type ConnectionMeta,
} from './connectionSpec';

/** The editor's input boxes and pick lists, as the wizard needs them (vscode.window in the extension). */
export interface Prompter {
  input(options: {
    title: string;
    prompt?: string;
    value?: string;
    password?: boolean;
    validate?: (v: string) => string | undefined;
  }): Promise<string | undefined>;
  pick<T extends { label: string }>(items: T[], options: { title: string; picked?: T }): Promise<T | undefined>;
}

export interface ConnectionAnswer {
  meta: ConnectionMeta;
  /** new secret values; undefined keeps the stored one */
  secrets: Record<string, string | undefined>;
}

interface Kind {
  label: string;
  description: string;
  type: string;
  strong?: boolean;
}

const KINDS: Kind[] = [
  ...CONNECTION_TYPES.map((t) => ({ label: t.label, description: t.className, type: t.className })),
  {
    label: 'Custom strong type',
    description: 'a CustomStrongTypeConnection subclass (class + module)',
    type: 'CustomConnection',
    strong: true,
  },
];

const STRONG_TYPE_QUESTIONS: ['custom_type' | 'module', string, (v: string) => string | undefined][] = [
  ['custom_type', 'The CustomStrongTypeConnection subclass the tool takes, e.g. MyCustomConnection', checkPythonName],
  [
    'module',
    "The module that defines it: a tool package's (my_tool_package.connections), or the flow's file name without .py",
    checkModuleName,
  ],
];

/**
 * "Set Connection…": the name, the type (every prompt flow connection type, and a custom strong type by class
 * and module), then the type's fields; secrets are asked for in password boxes and go to SecretStorage only.
 * Undefined when the user cancels at any step.
 */
export async function askConnection(
  p: Prompter,
  existing: readonly ConnectionMeta[],
  stored: (name: string) => Promise<string[]>,
): Promise<ConnectionAnswer | undefined> {
  const name = await p.input({
    title: 'Set Connection: name',
    prompt: "The connection name the flow's nodes use (connection: <name>, or a tool input's value)",
    value: existing[0]?.name ?? 'open_ai_connection',
    validate: checkConnectionName,
  });
  if (!name) return undefined;
  const old = existing.find((c) => c.name === name);
  const storedSecrets = new Set(old ? await stored(name) : []);
  const picked = KINDS.find((k) => old && k.type === old.type && !!k.strong === !!old.custom_type);
  const kind = await p.pick(KINDS, { title: `Set Connection '${name}': type`, picked });
  if (!kind) return undefined;
  const same = old && old.type === kind.type ? old : undefined;
  if (kind.type !== 'CustomConnection') return askFields(p, name, kind.type, same, storedSecrets);
  return askCustom(p, name, !!kind.strong, same, storedSecrets);
}

async function askFields(
  p: Prompter,
  name: string,
  type: string,
  old: ConnectionMeta | undefined,
  stored: Set<string>,
): Promise<ConnectionAnswer | undefined> {
  const info = connectionTypeByClass(type);
  const fields: Record<string, string> = {};
  const secrets: Record<string, string | undefined> = {};
  for (const f of info?.fields ?? []) {
    if (f.secret) {
      const value = await askSecret(p, name, f.name, stored.has(f.name), !!f.required);
      if (value === undefined) return undefined;
      secrets[f.name] = value || undefined;
      continue;
    }
    const legacy = f.name === 'api_base' || f.name === 'base_url' ? old?.api_base : f.name === 'api_version' ? old?.api_version : undefined;
    const value = await p.input({
      title: `Set Connection '${name}': ${f.name}`,
      prompt: fieldPrompt(f),
      value: old?.fields?.[f.name] ?? legacy ?? f.default ?? '',
      validate: (v) => checkField(f, v.trim()),
    });
    if (value === undefined) return undefined;
    if (value.trim()) fields[f.name] = value.trim();
  }
  const secretNames = (info?.fields ?? []).filter((f) => f.secret).map((f) => f.name);
  return { meta: { name, type, fields, secretNames }, secrets };
}

async function askCustom(
  p: Prompter,
  name: string,
  strong: boolean,
  old: ConnectionMeta | undefined,
  stored: Set<string>,
): Promise<ConnectionAnswer | undefined> {
  const meta: ConnectionMeta = { name, type: 'CustomConnection' };
  if (strong) {
    // the class and the module, each asked with its own check
    for (const [key, prompt, check] of STRONG_TYPE_QUESTIONS) {
      const value = await p.input({ title: `Set Connection '${name}': ${key}`, prompt, value: old?.[key] ?? '', validate: check });
      if (value === undefined) return undefined;
      meta[key] = value.trim();
    }
  }
  const configs = await p.input({
    title: `Set Connection '${name}': configs`,
    prompt: "Non-secret fields as key=value pairs separated by ';' (may be empty)",
    value: pairsText(old?.configs ?? (old?.api_base ? { api_base: old.api_base } : undefined)),
    validate: (v) => {
      const r = parsePairs(v);
      return typeof r === 'string' ? r : undefined;
    },
  });
  if (configs === undefined) return undefined;
  meta.configs = parsePairs(configs) as Record<string, string>;
  const names = await p.input({
    title: `Set Connection '${name}': secret names`,
    prompt: "Names of the secret fields, separated by ',' (their values are asked next, in password boxes)",
    value: (old?.secretNames ?? ['api_key']).join(', '),
    validate: (v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => checkConnectionName(s) === undefined)
        ? undefined
        : "Names of letters, digits, _ . -, separated by ','.",
  });
  if (names === undefined) return undefined;
  meta.secretNames = [
    ...new Set(
      names
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  const secrets: Record<string, string | undefined> = {};
  for (const s of meta.secretNames) {
    const value = await askSecret(p, name, s, stored.has(s), true);
    if (value === undefined) return undefined;
    secrets[s] = value || undefined;
  }
  return { meta, secrets };
}

/** A secret: '' keeps the stored value (when there is one). */
function askSecret(p: Prompter, name: string, field: string, isStored: boolean, required: boolean): Promise<string | undefined> {
  return p.input({
    title: `Set Connection '${name}': ${field} (secret)`,
    prompt: isStored
      ? "Leave empty to keep the stored value. Kept in VS Code's secret storage; runs receive it per request."
      : "Kept in VS Code's secret storage; runs receive it per request.",
    password: true,
    validate: (v) => (!v && required && !isStored ? `The connection needs its ${field}.` : undefined),
  });
}

function fieldPrompt(f: ConnectionField): string {
  const parts = [f.placeholder, f.required ? 'required' : 'optional', f.default ? `default ${f.default}` : undefined];
  return parts.filter(Boolean).join(' · ');
}

function checkField(f: ConnectionField, v: string): string | undefined {
  if (URL_FIELDS.has(f.name)) return checkApiBase(v, !!f.required);
  return !v && f.required ? `The connection needs its ${f.name}.` : undefined;
}
