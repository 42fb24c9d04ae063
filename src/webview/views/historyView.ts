/// <reference lib="dom" />
/**
 * The runs of this flow found in .promptflow/runs, with links that open their files in the editor, their metrics,
 * and the metrics of the runs picked for comparison side by side.
 */
import { el } from '../dom';
import { formatMetric, formatVariants, metricsTable, MAX_COMPARED_RUNS } from '../../shared/metricsTable';
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

function comparison(runs: RunSummary[], picked: string[]): HTMLElement {
  const table = metricsTable(runs, picked);
  if (table.runs.length === 0)
    return el(
      'p',
      { class: 'muted', 'data-testid': 'metrics-compare' },
      `Tick up to ${MAX_COMPARED_RUNS} runs with metrics to compare them.`,
    );
  const head = el(
    'tr',
    {},
    el('th', {}, 'Metric'),
    ...table.runs.map((r) =>
      el('th', {}, el('code', {}, r.runId), r.variants ? el('div', { class: 'muted' }, formatVariants(r.variants)) : null),
    ),
  );
  const rows = table.rows.map((row) =>
    el(
      'tr',
      { 'data-metric': row.metric },
      el('td', {}, row.metric),
      ...row.values.map((v) => el('td', { class: 'num' }, formatMetric(v))),
    ),
  );
  return el('table', { class: 'metrics', 'data-testid': 'metrics-compare' }, el('thead', {}, head), el('tbody', {}, ...rows));
}

export function renderHistory(runs: RunSummary[], compared: string[] = []): Node[] {
  if (runs.length === 0)
    return [el('p', { class: 'muted' }, 'No runs yet. Runs write their files to .promptflow/runs/ in the flow folder.')];
  const header = el(
    'vscode-data-grid-row',
    { 'row-type': 'header' },
    ...['Time', 'Status', 'Run', 'Metrics', 'Files'].map((t, i) =>
      el('vscode-data-grid-cell', { 'grid-column': i + 1, 'cell-type': 'columnheader' }, t),
    ),
  );
  const rows = runs.map((r) => {
    const links = el('span', { class: 'files' });
    r.files.forEach((f, i) => {
      if (i) links.append(' ');
      links.append(fileLink(r.runId, f));
    });
    const hasMetrics = !!r.metrics && Object.keys(r.metrics).length > 0;
    const pick = hasMetrics
      ? el('input', { type: 'checkbox', 'data-compare': r.runId, checked: compared.includes(r.runId), 'aria-label': `Compare ${r.runId}` })
      : null;
    if (pick) (pick as HTMLInputElement).checked = compared.includes(r.runId);
    return el(
      'vscode-data-grid-row',
      { 'data-run': r.runId },
      cell(1, new Date(r.time).toLocaleString()),
      cell(2, el('span', { class: `status status-${r.status}` }, r.kind === 'batch' ? `${r.status} (batch)` : r.status)),
      cell(3, el('code', {}, r.runId), r.variants ? el('div', { class: 'muted' }, formatVariants(r.variants)) : null),
      cell(4, pick, el('span', { class: 'metrics-text' }, metricsText(r.metrics))),
      cell(5, links),
    );
  });
  return [
    el(
      'vscode-data-grid',
      {
        'aria-label': 'Run history',
        'generate-header': 'none',
        'grid-template-columns': '2fr 1fr 3fr 3fr 3fr',
        'data-testid': 'history-grid',
      },
      header,
      ...rows,
    ),
    el('h3', {}, 'Metrics side by side'),
    comparison(runs, compared),
  ];
}
