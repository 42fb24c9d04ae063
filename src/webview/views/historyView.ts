/// <reference lib="dom" />
/**
 * The runs of this flow found in .promptflow/runs, with links that open their files in the editor, the variants that
 * ran and the metrics each logged; runs ticked here are compared side by side (metrics included) by the comparison.
 */
import { el } from '../dom';
import { formatMetric, formatVariants } from '../../shared/metricsTable';
import type { RunSummary } from '../../shared/protocol';

function cell(column: number, ...children: (Node | string | null)[]): HTMLElement {
  return el('vscode-data-grid-cell', { 'grid-column': column }, ...children);
}

function fileLink(runId: string, file: string): HTMLElement {
  return el('vscode-link', { href: '#', 'data-action': 'openFile', 'data-run': runId, 'data-file': file, title: `Open ${file}` }, file);
}

function metricsText(metrics: Record<string, number> | undefined): string {
  return Object.entries(metrics ?? {})
    .map(([k, v]) => `${k}=${formatMetric(v)}`)
    .join(', ');
}

/** The history; `selected` are the runs ticked for a comparison (the webview keeps them until they are compared). */
export function renderHistory(runs: RunSummary[], selected: ReadonlySet<string> = new Set()): Node[] {
  if (runs.length === 0)
    return [el('p', { class: 'muted' }, 'No runs yet. Runs write their files to .promptflow/runs/ in the flow folder.')];
  const header = el(
    'vscode-data-grid-row',
    { 'row-type': 'header' },
    ...['', 'Time', 'Status', 'Run', 'Metrics', 'Files'].map((t, i) =>
      el('vscode-data-grid-cell', { 'grid-column': i + 1, 'cell-type': 'columnheader' }, t),
    ),
  );
  const rows = runs.map((r) => {
    const links = el('span', { class: 'files' });
    r.files.forEach((f, i) => {
      if (i) links.append(' ');
      links.append(fileLink(r.runId, f));
    });
    if (r.files.includes('trace.json'))
      links.append(
        ' ',
        el(
          'vscode-link',
          { href: '#', 'data-action': 'showTrace', 'data-run': r.runId, title: 'Show the trace as a timeline' },
          'timeline',
        ),
      );
    const pick = el('vscode-checkbox', { 'data-select': r.runId, checked: selected.has(r.runId), 'aria-label': `Compare ${r.runId}` });
    (pick as HTMLElement & { checked: boolean }).checked = selected.has(r.runId);
    return el(
      'vscode-data-grid-row',
      { 'data-run': r.runId },
      cell(1, pick),
      cell(2, new Date(r.time).toLocaleString()),
      cell(3, el('span', { class: `status status-${r.status}` }, r.kind === 'batch' ? `${r.status} (batch)` : r.status)),
      cell(4, el('code', {}, r.runId), r.variants ? el('div', { class: 'muted' }, formatVariants(r.variants)) : null),
      cell(5, el('span', { class: 'metrics-text', 'data-metrics': r.runId }, metricsText(r.metrics))),
      cell(6, links),
    );
  });
  const chosen = runs.filter((r) => selected.has(r.runId)).length;
  return [
    el(
      'div',
      { class: 'section-head' },
      el('span', { class: 'muted' }, chosen ? `${chosen} selected` : 'Tick two runs or more to compare them side by side.'),
      el('vscode-button', { 'data-action': 'compare', disabled: chosen < 2, 'data-testid': 'compare-button' }, 'Compare'),
    ),
    el(
      'vscode-data-grid',
      {
        'aria-label': 'Run history',
        'generate-header': 'none',
        'grid-template-columns': '40px 2fr 1fr 3fr 3fr 4fr',
        'data-testid': 'history-grid',
      },
      header,
      ...rows,
    ),
  ];
}
