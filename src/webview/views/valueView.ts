/// <reference lib="dom" />
/**
 * A value as a person reads it: text with its line breaks, JSON as a collapsible tree, long values cut with a
 * way to open them whole in an editor (the host reads the value from the run's files).
 */
import { el, pre } from '../dom';

/** characters of a text shown before it is cut */
export const SHOWN_CHARS = 2000;
/** items of a list or keys of an object shown */
const SHOWN_ITEMS = 100;
/** levels of a JSON tree open at first */
const OPEN_LEVELS = 2;
const MAX_DEPTH = 30;

/** Where a value comes from, so the panel can ask the host for it whole. */
export interface ValueSource {
  runId: string;
  kind: 'node' | 'output';
  name: string;
}

function openWhole(source: ValueSource | undefined, label: string): HTMLElement | null {
  if (!source) return null;
  return el(
    'vscode-link',
    {
      href: '#',
      class: 'open-whole',
      'data-action': 'openValue',
      'data-run': source.runId,
      'data-kind': source.kind,
      'data-name': source.name,
      'data-testid': 'open-whole',
    },
    label,
  );
}

function textBlock(text: string, source: ValueSource | undefined, cls: string): HTMLElement {
  if (text.length <= SHOWN_CHARS) return pre(text, { class: `value-text ${cls}`, 'data-testid': 'value-text' });
  return el(
    'div',
    { class: 'value-cut' },
    pre(text.slice(0, SHOWN_CHARS), { class: `value-text ${cls}`, 'data-testid': 'value-text' }),
    el('span', { class: 'muted' }, `… ${(text.length - SHOWN_CHARS).toLocaleString('en-US')} more characters `),
    openWhole(source, 'Open whole value'),
  );
}

function scalar(v: unknown): HTMLElement {
  if (typeof v === 'string') {
    const cut = v.length > SHOWN_CHARS ? `${v.slice(0, SHOWN_CHARS)}…` : v;
    // a string inside JSON keeps its line breaks too
    return v.includes('\n')
      ? el('span', { class: 'json-string json-multiline' }, cut)
      : el('span', { class: 'json-string' }, JSON.stringify(cut));
  }
  return el('span', { class: `json-${v === null ? 'null' : typeof v}` }, String(JSON.stringify(v) ?? String(v)));
}

function tree(v: unknown, depth: number): HTMLElement {
  if (v === null || typeof v !== 'object' || depth >= MAX_DEPTH)
    return depth >= MAX_DEPTH ? el('span', { class: 'muted' }, '…') : scalar(v);
  const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v as Record<string, unknown>);
  const brackets = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return el('span', { class: 'json-punct' }, brackets.join(''));
  const rows = entries
    .slice(0, SHOWN_ITEMS)
    .map(([k, x]) =>
      el(
        'div',
        { class: 'json-row' },
        el('span', { class: 'json-key' }, Array.isArray(v) ? `${k}: ` : `${JSON.stringify(k)}: `),
        tree(x, depth + 1),
      ),
    );
  if (entries.length > SHOWN_ITEMS) rows.push(el('div', { class: 'muted' }, `… ${entries.length - SHOWN_ITEMS} more`));
  return el(
    'details',
    { class: 'json-node', open: depth < OPEN_LEVELS },
    el('summary', { class: 'json-punct' }, `${brackets[0]} ${entries.length} ${Array.isArray(v) ? 'items' : 'keys'} ${brackets[1]}`),
    el('div', { class: 'json-children' }, ...rows),
  );
}

/**
 * A value shown readably: a string as text with its line breaks; an object or a list as a collapsible JSON tree;
 * anything cut says so and, with a source, links to the whole value.
 */
export function renderValue(value: unknown, source?: ValueSource, cls = ''): HTMLElement {
  if (typeof value === 'string') return textBlock(value, source, cls);
  if (value === null || typeof value !== 'object') return el('div', { class: `value-scalar ${cls}` }, scalar(value));
  let size = 0;
  try {
    size = JSON.stringify(value)?.length ?? 0;
  } catch {
    size = 0;
  }
  return el(
    'div',
    { class: `value-json ${cls}`, 'data-testid': 'value-json' },
    tree(value, 0),
    size > SHOWN_CHARS * 10 ? openWhole(source, 'Open whole value') : null,
  );
}

/** A flow's outputs: one labelled readable value per output. */
export function renderOutputs(outputs: Record<string, unknown>, runId: string | undefined): HTMLElement {
  return el(
    'div',
    { class: 'outputs-list', 'data-testid': 'run-outputs' },
    ...Object.entries(outputs).map(([name, v]) =>
      el(
        'div',
        { class: 'output', 'data-output': name },
        el('div', { class: 'output-name' }, el('strong', {}, name)),
        renderValue(v, runId ? { runId, kind: 'output', name } : undefined),
      ),
    ),
  );
}
