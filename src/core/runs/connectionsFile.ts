import * as fs from 'fs';
import * as path from 'path';
import type { Document, LineCounter, Node } from 'yaml';
import { yaml } from '../vendor';
import { FlowSessionError } from '../errors';
import type { ConnectionSpec } from '../runtime/protocol';
import { connectionTypeNames, connectionTypeOf, type ConnectionTypeInfo } from './connectionTypes';

const ENV_REF = /^\$\{env:([A-Za-z_][A-Za-z0-9_]{0,127})\}$/;
const USER_INPUT = '<user-input>';
/** A connections file is a few lines; anything bigger is not one (and is not read whole into memory). */
export const MAX_CONNECTIONS_FILE_BYTES = 1 << 20;
const MAX_FOLDER_FILES = 1000;
const MAX_ALIASES = 50;
/** Keys of a prompt flow connection file that describe the file, not the connection. */
const FILE_KEYS = new Set(['$schema', 'name', 'type', 'created_date', 'last_modified_date', 'expiry_time', 'description']);
const FORMAT_HINT =
  "A connections file is prompt flow's (one connection: $schema, name, type, its fields; secrets as ${env:VAR}) or a list of such connections.";

type Raw = Record<string, unknown>;

/** Where a connection comes from, for messages: never a value. */
interface Place {
  file: string;
  doc: Document;
  lines: LineCounter;
  path: (string | number)[];
}

function at(place: Place, sub: (string | number)[] = []): string {
  const node = place.doc.getIn([...place.path, ...sub], true) as Node | undefined;
  const offset = node?.range?.[0];
  if (offset === undefined) return place.file;
  const { line, col } = place.lines.linePos(offset);
  return `${place.file}:${line}:${col}`;
}

function bad(where: string, message: string, remedy = FORMAT_HINT): FlowSessionError {
  return new FlowSessionError('bad-input', `${where}: ${message}`, remedy);
}

/**
 * Reads the connections the CLI was given: files and folders of files (`*.yaml`, `*.yml`), each either
 * prompt flow's own connection file (one connection: `$schema`, `name`, `type`, its fields; custom:
 * `configs`, `secrets`, and `custom_type` + `module` for a strong type) or flowsession's list of them (a
 * list, `connections:` list, or a map by name). Secrets are written as `${env:VAR}` and resolved here from
 * the CLI's environment, so they never sit in a file and reach nothing but the run request.
 */
export function readConnections(sources: readonly string[], env: NodeJS.ProcessEnv = process.env): Record<string, ConnectionSpec> {
  const out: Record<string, ConnectionSpec> = {};
  const origin = new Map<string, string>();
  for (const source of sources) {
    for (const file of connectionFilesOf(source)) {
      for (const [name, spec] of Object.entries(readConnectionsFile(file, env))) {
        const first = origin.get(name);
        if (first !== undefined)
          throw new FlowSessionError(
            'bad-input',
            `Connection '${name}' is defined twice: in ${first} and in ${file}.`,
            'Give each connection one definition (or a different name).',
          );
        origin.set(name, file);
        out[name] = spec;
      }
    }
  }
  return out;
}

/** A file, or the YAML files directly inside a folder (sorted, so a duplicate is reported the same way each time). */
function connectionFilesOf(source: string): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(source);
  } catch {
    throw new FlowSessionError('bad-input', `Connections file not found: ${source}`, 'Give a connection YAML file or a folder of them.');
  }
  if (!stat.isDirectory()) return [source];
  const files = fs
    .readdirSync(source, { withFileTypes: true })
    .filter((e) => /\.ya?ml$/i.test(e.name) && !e.isDirectory())
    .map((e) => path.join(source, e.name))
    .sort();
  if (files.length === 0) throw new FlowSessionError('bad-input', `${source}: no .yaml or .yml files in this folder.`, FORMAT_HINT);
  if (files.length > MAX_FOLDER_FILES)
    throw new FlowSessionError(
      'bad-input',
      `${source}: more than ${MAX_FOLDER_FILES} YAML files.`,
      'Point --connections at the connection files.',
    );
  return files;
}

/** The connections of one file (see readConnections). */
export function readConnectionsFile(file: string, env: NodeJS.ProcessEnv = process.env): Record<string, ConnectionSpec> {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_CONNECTIONS_FILE_BYTES)
      throw bad(file, `${size} bytes is too big for a connections file (at most ${MAX_CONNECTIONS_FILE_BYTES}).`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof FlowSessionError) throw e;
    throw new FlowSessionError('bad-input', `Connections file not found: ${file}`, 'Give a connection YAML file or a folder of them.');
  }
  const { isMap, isSeq, parseDocument } = yaml();
  const lines = new (yaml().LineCounter)();
  // prettyErrors off: a pretty error quotes the source line, which may hold a secret
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const err = doc.errors[0];
    const { line, col } = lines.linePos(err.pos[0]);
    throw bad(`${file}:${line}:${col}`, `not valid YAML (${err.code}).`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch {
    throw bad(file, 'uses YAML aliases too many times.', 'Write the connections without aliases.');
  }
  const root: Place = { file, doc, lines, path: [] };
  const entries: [Place, Raw, string | undefined][] = [];
  const entry = (sub: (string | number)[], raw: unknown, key?: string) => {
    const place = { ...root, path: sub };
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad(at(place), 'a connection must be a mapping (name, type, fields).');
    entries.push([place, raw as Raw, key]);
  };
  if (isSeq(doc.contents) && Array.isArray(value)) value.forEach((v, i) => entry([i], v));
  else if (isMap(doc.contents) && value && typeof value === 'object') {
    const map = value as Raw;
    if (typeof map.type === 'string') entry([], map);
    else if (Array.isArray(map.connections)) map.connections.forEach((v, i) => entry(['connections', i], v));
    else for (const [k, v] of Object.entries(map)) entry([k], v, k);
  } else throw bad(file, 'no connection in this file.');
  const out: Record<string, ConnectionSpec> = {};
  for (const [place, raw, key] of entries) {
    const [name, spec] = connectionOf(place, raw, key, env);
    if (name in out) throw bad(at(place), `connection '${name}' is defined twice in this file.`, 'Give each connection one definition.');
    out[name] = spec;
  }
  return out;
}

function connectionOf(place: Place, raw: Raw, key: string | undefined, env: NodeJS.ProcessEnv): [string, ConnectionSpec] {
  const name = raw.name ?? key;
  if (typeof name !== 'string' || !name.trim() || name.length > 128)
    throw bad(at(place, 'name' in raw ? ['name'] : []), 'a connection needs a `name` (a string of at most 128 characters).');
  if (typeof raw.type !== 'string')
    throw bad(at(place, 'type' in raw ? ['type'] : []), `connection '${name}' needs a \`type\`: one of ${connectionTypeNames()}.`);
  const info = connectionTypeOf(raw.type);
  if (!info)
    throw bad(
      at(place, ['type']),
      `connection '${name}' has the unknown type '${clip(raw.type)}'.`,
      `Use one of ${connectionTypeNames()}.`,
    );
  const spec: ConnectionSpec = { type: info.className };
  const secretNames = new Set(info.fields.filter((f) => f.secret).map((f) => f.name));
  for (const [k, v] of Object.entries(raw)) {
    if (FILE_KEYS.has(k)) continue;
    const where = { place, name, field: k };
    if (k === 'configs' || k === 'secrets') (spec as Raw)[k] = resolveMap(v, where, env);
    else spec[k] = resolveValue(v, where, env, secretNames.has(k));
  }
  checkFields(place, name, info, spec, raw);
  return [name, spec];
}

/** Required fields present; a strong type names both its class and its module. */
function checkFields(place: Place, name: string, info: ConnectionTypeInfo, spec: ConnectionSpec, raw: Raw): void {
  for (const f of info.fields) {
    const v = spec[f.name];
    if (!f.required || (v !== undefined && v !== null && v !== '')) continue;
    throw bad(
      at(place),
      `connection '${name}' (${info.yamlType}) has no \`${f.name}\`.`,
      `Add ${f.name}${f.secret ? ': ${env:VAR}' : ''}.`,
    );
  }
  if (info.className !== 'CustomConnection') return;
  const typed = ['custom_type', 'module'].filter((k) => raw[k] !== undefined);
  if (typed.length === 1)
    throw bad(
      at(place, [typed[0]]),
      `connection '${name}' gives \`${typed[0]}\` alone.`,
      'A custom strong type connection names its class (custom_type) and the module that defines it (module).',
    );
  for (const k of typed)
    if (typeof raw[k] !== 'string' || !/^[A-Za-z_][\w.]*$/.test(raw[k] as string))
      throw bad(
        at(place, [k]),
        `connection '${name}': \`${k}\` must be a Python name.`,
        'custom_type: MyConnection, module: my_package.connections',
      );
}

interface Where {
  place: Place;
  name: string;
  field: string;
}

function resolveMap(v: unknown, where: Where, env: NodeJS.ProcessEnv): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw bad(at(where.place, [where.field]), `connection '${where.name}': \`${where.field}\` must be a mapping of names to values.`);
  const secret = where.field === 'secrets';
  return Object.fromEntries(
    Object.entries(v as Raw).map(([k, x]) => [
      k,
      resolveValue(x, { ...where, field: `${where.field}.${k}` }, env, secret, [where.field, k]),
    ]),
  );
}

/** A literal, or a `${env:VAR}` read from the environment; never echoed in a message. */
function resolveValue(v: unknown, where: Where, env: NodeJS.ProcessEnv, secret: boolean, sub: string[] = [where.field]): unknown {
  if (typeof v !== 'string') {
    // a secret is text: the runtime redacts strings, so a key written as a number is sent as one
    if (secret && (typeof v === 'number' || typeof v === 'boolean')) return String(v);
    if (secret && v !== null && v !== undefined && typeof v === 'object')
      throw bad(at(where.place, sub), `connection '${where.name}': the secret \`${where.field}\` must be a string.`);
    return v;
  }
  const text = v.trim();
  if (text === USER_INPUT)
    throw bad(
      at(where.place, sub),
      `connection '${where.name}' asks for \`${where.field}\` as "${USER_INPUT}", which the CLI cannot ask for.`,
      `Write ${where.field.split('.').pop()}: \${env:SOME_VAR} in the file and set SOME_VAR in the environment of the command.`,
    );
  if (!text.startsWith('${env:')) return v;
  const m = ENV_REF.exec(text);
  if (!m)
    throw bad(
      at(where.place, sub),
      `connection '${where.name}': \`${where.field}\` is not a valid \${env:NAME} reference.`,
      'A reference names one environment variable: letters, digits and _, not starting with a digit.',
    );
  const value = env[m[1]];
  if (value === undefined)
    throw bad(
      at(where.place, sub),
      `connection '${where.name}' needs the environment variable ${m[1]}, which is not set.`,
      `Set ${m[1]} before running.`,
    );
  return value;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
