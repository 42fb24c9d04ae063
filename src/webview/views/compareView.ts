/// <reference lib="dom" />
/** Runs side by side: one column per run; status, time, duration, tokens, metrics and variants, then line by line. */
import { el, formatDuration } from '../dom';
import { lineNumbers, metricNames, type ComparedRun, type ComparisonView } from '../../shared/comparison';
import { tokensText } from '../../shared/trace';
import { renderValue } from './valueView';

function row(label: string, cells: (Node | string)[], cls = ''): HTMLElement {
  return el('tr', { class: cls }, el('th', { scope: 'row' }, label), ...cells.map((c) => el('td', {}, c)));
}

function record(values: Record<string, unknown> | undefined): Node {
  if (!values || Object.keys(values).length === 0) return el('span', { class: 'muted' }, '—');
  return el(
    'div',
    { class: 'compare-values' },
    ...Object.entries(values).map(([k, v]) =>
      el('div', { class: 'compare-value' }, el('span', { class: 'compare-key' }, `${k}: `), renderValue(v)),
    ),
  );
}

function same(runs: ComparedRun[], pick: (r: ComparedRun) => unknown): boolean {
  const first = JSON.stringify(pick(runs[0]));
  return runs.every((r) => JSON.stringify(pick(r)) === first);
}

export function renderComparison(view: ComparisonView): HTMLElement {
  const runs = view.runs;
  const summary = el(
    'table',
    { class: 'compare', 'data-testid': 'compare-summary' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', {}, ''),
        ...runs.map((r) => el('th', { scope: 'col', 'data-run': r.runId }, el('code', {}, r.runId), r.kind === 'batch' ? ' (batch)' : '')),
      ),
    ),
    el(
      'tbody',
      {},
      row(
        'Status',
        runs.map((r) => el('span', { class: `status status-${r.status}` }, r.problem ? `${r.status}: ${r.problem}` : r.status)),
      ),
      row(
        'Time',
        runs.map((r) => (r.time ? new Date(r.time).toLocaleString() : '')),
      ),
      row(
        'Duration',
        runs.map((r) => formatDuration(r.durationMs)),
        'compare-duration',
      ),
      row(
        'Tokens',
        runs.map((r) => (r.tokens ? tokensText(r.tokens) : 'not traced')),
        'compare-tokens',
      ),
      ...metricNames(view).map((m) =>
        row(
          `metric ${m}`,
          runs.map((r) => (m in r.metrics ? String(r.metrics[m]) : '—')),
          'compare-metric',
        ),
      ),
      ...(runs.some((r) => Object.keys(r.variants).length)
        ? [
            row(
              'Variants',
              runs.map((r) =>
                Object.entries(r.variants)
                  .map(([n, v]) => `${n}: ${v}`)
                  .join(', '),
              ),
            ),
          ]
        : []),
    ),
  );
  const lines = lineNumbers(view);
  const lineRows = lines.flatMap((i) => {
    const at = (r: ComparedRun) => r.lines.find((l) => l.index === i);
    const inputsSame = same(runs, (r) => at(r)?.inputs);
    return [
      el(
        'tr',
        { class: 'compare-line-head' },
        el('th', { colspan: runs.length + 1 }, runs.some((r) => r.kind === 'batch') ? `Line ${i}` : 'Run'),
      ),
      row(
        inputsSame ? 'Inputs (same)' : 'Inputs',
        runs.map((r) => record(at(r)?.inputs)),
        inputsSame ? 'compare-same' : 'compare-differs',
      ),
      row(
        'Outputs',
        runs.map((r) => {
          const l = at(r);
          return l?.error ? el('span', { class: 'error' }, l.error) : record(l?.outputs);
        }),
        same(runs, (r) => at(r)?.outputs) ? 'compare-same' : 'compare-differs',
      ),
    ];
  });
  const omitted = runs.filter((r) => r.linesOmitted > 0);
  return el(
    'div',
    { class: 'comparison', 'data-testid': 'comparison' },
    el(
      'div',
      { class: 'section-head' },
      el('h3', {}, `${runs.length} runs side by side`),
      el('vscode-button', { 'data-action': 'closeComparison', appearance: 'secondary' }, 'Close'),
    ),
    summary,
    el('table', { class: 'compare compare-lines', 'data-testid': 'compare-lines' }, el('tbody', {}, ...lineRows)),
    ...omitted.map((r) => el('p', { class: 'muted' }, `${r.runId}: ${r.linesOmitted} more lines not shown.`)),
  );
}
