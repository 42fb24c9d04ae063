/// <reference lib="dom" />
/**
 * The only way the panel makes elements: attributes through setAttribute, content as text nodes. No
 * markup string is ever parsed, so nothing from a flow, a log or a package name can become HTML, and
 * `on…` attributes are refused (handlers are delegated listeners in main.ts; the CSP forbids inline ones).
 */

export type Attrs = Record<string, string | number | boolean | undefined>;
export type Child = Node | string | number | null | undefined | false;

export function el(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (/^on/i.test(name) || name.toLowerCase() === 'style') throw new Error(`el: attribute ${name} is not allowed`);
    if (value === undefined || value === false) continue;
    e.setAttribute(name, value === true ? '' : String(value));
  }
  append(e, children);
  return e;
}

export function append(parent: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** A <pre> holding text exactly as given. */
export function pre(text: string, attrs: Attrs = {}): HTMLElement {
  const e = el('pre', attrs);
  e.textContent = text;
  return e;
}

/** JSON for display; a value that cannot be serialised is shown as text. */
export function json(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element, made as `el` makes HTML ones: attributes set one by one, text as text nodes, no handlers. */
export function svg(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (/^on/i.test(name) || name.toLowerCase() === 'style') throw new Error(`svg: attribute ${name} is not allowed`);
    if (value === undefined || value === false) continue;
    e.setAttribute(name, value === true ? '' : String(value));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return e;
}
