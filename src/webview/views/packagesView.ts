/// <reference lib="dom" />
/** Installed packages with their origin, in a toolkit data grid. */
import { el } from '../dom';
import type { PackageOriginName, PackagesView } from '../../shared/protocol';

export const ORIGIN_LABEL: Record<PackageOriginName, string> = {
  base: 'base image',
  requirements: 'requirements',
  'by-hand': 'by hand',
};

function cell(column: number, text: string, header = false): HTMLElement {
  return el('vscode-data-grid-cell', { 'grid-column': column, 'cell-type': header ? 'columnheader' : undefined }, text);
}

export function renderPackages(p: PackagesView): Node[] {
  const byHand = p.items.filter((i) => i.origin === 'by-hand').length;
  const head = el(
    'div',
    { class: 'section-head' },
    el(
      'span',
      { class: 'muted', 'data-testid': 'packages-summary' },
      p.status === 'ready' ? `${p.items.length} packages, ${byHand} installed by hand` : p.status === 'loading' ? 'Listing packages…' : '',
    ),
    p.status === 'loading' ? el('vscode-progress-ring', { 'aria-label': 'Listing packages' }) : null,
    el(
      'vscode-button',
      { 'data-action': 'refreshPackages', appearance: 'secondary', disabled: p.status === 'unavailable' || p.status === 'loading' },
      'Refresh',
    ),
  );
  const note = el(
    'p',
    { class: 'note' },
    'Packages installed by hand live until the session is reset; put them in requirements.txt to keep them.',
  );
  if (p.status === 'unavailable' || p.status === 'error') {
    return [head, el('p', { class: p.status === 'error' ? 'error' : 'muted' }, p.message ?? 'No package list.'), note];
  }
  const rows = [...p.items].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
  const grid = el(
    'vscode-data-grid',
    {
      'aria-label': 'Installed packages',
      'generate-header': 'none',
      'grid-template-columns': '3fr 2fr 2fr',
      'data-testid': 'packages-grid',
    },
    el('vscode-data-grid-row', { 'row-type': 'header' }, cell(1, 'Package', true), cell(2, 'Version', true), cell(3, 'Origin', true)),
    ...rows.map((r) =>
      el(
        'vscode-data-grid-row',
        { 'data-package': r.name, 'data-origin': r.origin },
        cell(1, r.name),
        cell(2, r.version),
        cell(3, ORIGIN_LABEL[r.origin] ?? r.origin),
      ),
    ),
  );
  return [head, note, grid];
}
