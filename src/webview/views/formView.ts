/// <reference lib="dom" />
/** The run form: one toolkit field per flow input, filled with the user's draft or the default. */
import { el } from '../dom';
import type { FormValue, InputField } from '../../shared/inputsForm';

function label(f: InputField): string {
  return `${f.name} (${f.declaredType ?? f.type})`;
}

function control(f: InputField, value: FormValue): HTMLElement {
  if (f.type === 'bool') {
    const box = el('vscode-checkbox', { 'data-input': f.name, checked: value === true }, label(f));
    (box as HTMLElement & { checked: boolean }).checked = value === true;
    return box;
  }
  const text = typeof value === 'string' ? value : String(value);
  const multiline = f.type === 'list' || f.type === 'object' || text.includes('\n');
  const field = el(
    multiline ? 'vscode-text-area' : 'vscode-text-field',
    {
      'data-input': f.name,
      value: text,
      rows: multiline ? Math.min(12, Math.max(3, text.split('\n').length)) : undefined,
      resize: multiline ? 'vertical' : undefined,
      placeholder:
        f.type === 'list'
          ? 'JSON list'
          : f.type === 'object'
            ? 'JSON object'
            : f.type === 'int'
              ? 'whole number'
              : f.type === 'double'
                ? 'number'
                : f.type === 'image'
                  ? 'path, URL or data URI'
                  : undefined,
    },
    label(f),
  );
  (field as HTMLElement & { value: string }).value = text;
  return field;
}

export function renderForm(
  fields: InputField[],
  fieldsError: string | undefined,
  drafts: Record<string, FormValue>,
  errors: Record<string, string>,
  runActive: boolean,
): Node[] {
  const rows = fields.map((f) => {
    const draft = Object.prototype.hasOwnProperty.call(drafts, f.name) ? drafts[f.name] : undefined;
    const value = draft !== undefined && typeof draft === typeof f.initial ? draft : f.initial;
    return el(
      'div',
      { class: 'field' },
      control(f, value),
      f.description ? el('div', { class: 'field-description muted' }, f.description) : null,
      el('div', { class: 'field-error', 'data-error-for': f.name, role: 'alert' }, errors[f.name] ?? ''),
    );
  });
  const unknown = Object.keys(errors).filter((n) => !fields.some((f) => f.name === n));
  return [
    fieldsError ? el('p', { class: 'error', role: 'alert' }, fieldsError) : null,
    fields.length === 0 && !fieldsError ? el('p', { class: 'muted' }, 'This flow has no inputs.') : null,
    el('div', { class: 'form', 'data-testid': 'run-form' }, ...rows),
    ...unknown.map((n) => el('p', { class: 'error' }, `${n}: ${errors[n]}`)),
    el(
      'div',
      { class: 'actions' },
      el('vscode-button', { 'data-action': 'run', disabled: runActive, 'data-testid': 'run-button' }, 'Run'),
      el('vscode-button', { 'data-action': 'resetForm', appearance: 'secondary', disabled: runActive }, 'Defaults'),
    ),
  ].filter((n): n is HTMLElement => n !== null);
}
