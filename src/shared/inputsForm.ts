/**
 * The run form made from a flow's `inputs`: which field each input gets and its initial value. Pure
 * and shared: the webview uses it to show mistakes as the user types; the extension side applies it
 * again to what the webview sends, because that is the copy it trusts. Text becomes a value by
 * `parseInputValue`, the rule every typed input follows.
 */
import { isInputType, MAX_INPUT_TEXT_CHARS, parseInputValue, type InputType } from './inputValue';

/** What a form field holds: text for everything but a bool's checkbox. */
export type FormValue = string | boolean;

export interface InputField {
  name: string;
  type: InputType;
  /** the field's initial value, made from the input's default */
  initial: FormValue;
  /** the input has a default in flow.dag.yaml */
  hasDefault: boolean;
  description?: string;
  /** the type as written when it is not one the form knows (edited as text) */
  declaredType?: string;
}

export const FORM_LIMITS = {
  fields: 100,
  nameChars: 128,
  valueChars: MAX_INPUT_TEXT_CHARS,
  descriptionChars: 1000,
} as const;

// prompt flow input names are Python identifiers; names that are also Object.prototype keys are refused
// so no lookup in a plain object can hit the prototype
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set(['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty']);

export function isValidInputName(name: string): boolean {
  return name.length <= FORM_LIMITS.nameChars && NAME.test(name) && !RESERVED.has(name);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function initialValue(type: InputType, dflt: unknown): FormValue {
  if (type === 'bool') return dflt === true || (typeof dflt === 'string' && dflt.toLowerCase() === 'true');
  if (dflt === undefined || dflt === null) return type === 'list' ? '[]' : type === 'object' ? '{}' : '';
  if (type === 'list' || type === 'object') return JSON.stringify(dflt, null, 2);
  return typeof dflt === 'string' ? dflt : JSON.stringify(dflt);
}

/** The fields of the flow's `inputs` (the parsed flow.dag.yaml), in the order they are written. */
export function fieldsFromFlow(flow: unknown): InputField[] {
  const inputs = isPlainObject(flow) && isPlainObject(flow.inputs) ? flow.inputs : {};
  const fields: InputField[] = [];
  for (const [name, spec] of Object.entries(inputs)) {
    if (fields.length >= FORM_LIMITS.fields) break;
    if (!isValidInputName(name)) continue;
    const body = isPlainObject(spec) ? spec : {};
    const written = typeof body.type === 'string' ? body.type : 'string';
    const type: InputType = isInputType(written) ? written : 'string';
    const field: InputField = { name, type, initial: initialValue(type, body.default), hasDefault: 'default' in body };
    if (typeof body.description === 'string' && body.description)
      field.description = body.description.slice(0, FORM_LIMITS.descriptionChars);
    if (type !== written) field.declaredType = written.slice(0, 64);
    fields.push(field);
  }
  return fields;
}

/** The initial value of every field. */
export function initialValues(fields: InputField[]): Record<string, FormValue> {
  return Object.fromEntries(fields.map((f) => [f.name, f.initial]));
}

export interface CoercedInputs {
  values: Record<string, unknown>;
  /** field name → what is wrong; names that are not inputs of the flow are reported too */
  errors: Record<string, string>;
}

/**
 * Every field's value for a run. Inputs left out are left to the flow's defaults; names the flow
 * does not declare are errors (a form made from an older flow.dag.yaml, or a forged message).
 */
export function coerceInputs(fields: InputField[], raw: Record<string, unknown>): CoercedInputs {
  const byName = new Map(fields.map((f) => [f.name, f]));
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    const field = byName.get(name);
    if (!field) {
      errors[name] = 'The flow has no such input (reload the panel if flow.dag.yaml changed).';
      continue;
    }
    const r = parseInputValue(field.type, value);
    if (r.ok) values[name] = r.value;
    else errors[name] = r.error;
  }
  return { values, errors };
}
