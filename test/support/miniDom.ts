/**
 * Just enough of a DOM for the webview's views to run in Node unit tests: elements (HTML and SVG) with
 * attributes, children and text, made by `document` as the views make them. Tests query it with `find`.
 */
export class MiniText {
  readonly nodeType = 3;
  constructor(public data: string) {}
  get textContent(): string {
    return this.data;
  }
}

export class MiniElement {
  readonly nodeType = 1;
  readonly attributes = new Map<string, string>();
  children: (MiniElement | MiniText)[] = [];
  [prop: string]: unknown;

  constructor(
    readonly tagName: string,
    readonly namespaceURI: string | null = null,
  ) {}

  setAttribute(name: string, value: string): void {
    this.attributes.set(name, String(value));
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  hasAttribute(name: string): boolean {
    return this.attributes.has(name);
  }
  append(...nodes: (MiniElement | MiniText | string)[]): void {
    for (const n of nodes) this.children.push(typeof n === 'string' ? new MiniText(n) : n);
  }
  replaceChildren(...nodes: (MiniElement | MiniText)[]): void {
    this.children = [];
    this.append(...nodes);
  }
  get textContent(): string {
    return this.children.map((c) => c.textContent).join('');
  }
  set textContent(text: string) {
    this.children = [new MiniText(text)];
  }
  /** every element below (and including) this one that matches */
  findAll(match: (e: MiniElement) => boolean): MiniElement[] {
    const out: MiniElement[] = match(this) ? [this] : [];
    for (const c of this.children) if (c instanceof MiniElement) out.push(...c.findAll(match));
    return out;
  }
}

/** Installs `document` for the duration of a test suite; returns the uninstall. */
export function installMiniDom(): () => void {
  const g = globalThis as { document?: unknown };
  const before = g.document;
  g.document = {
    createElement: (tag: string) => new MiniElement(tag.toUpperCase()),
    createElementNS: (ns: string, tag: string) => new MiniElement(tag, ns),
    createTextNode: (text: string) => new MiniText(text),
  };
  return () => {
    g.document = before;
  };
}

/** Elements of the rendered nodes that match. */
export function find(nodes: unknown[] | unknown, match: (e: MiniElement) => boolean): MiniElement[] {
  const list = Array.isArray(nodes) ? nodes : [nodes];
  return list.flatMap((n) => (n instanceof MiniElement ? n.findAll(match) : []));
}

export const byAttr = (name: string, value?: string) => (e: MiniElement) =>
  value === undefined ? e.attributes.has(name) : e.attributes.get(name) === value;
