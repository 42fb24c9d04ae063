/// <reference lib="dom" />
/** The current run: node by node (status, duration, logs, output), then the flow's outputs or error. */
import { el, formatDuration, pre } from '../dom';
import { formatMetric, formatVariants } from '../../shared/metricsTable';
import type { NodeView, RunErrorView, RunView } from '../../shared/protocol';
import { renderTimeline } from './timelineView';
import { renderOutputs, renderValue } from './valueView';

function errorBlock(e: RunErrorView, testid: string): HTMLElement {
  return el(
    'div',
    { class: 'run-error', role: 'alert', 'data-testid': testid },
    el('div', {}, el('strong', {}, e.code), ': ', e.message),
    e.detail ? pre(e.detail, { class: 'traceback' }) : null,
  );
}

function nodeBlock(n: NodeView, runId: string | undefined): HTMLElement {
  return el(
    'div',
    { class: 'node', 'data-node': n.node, 'data-status': n.status },
    el(
      'div',
      { class: 'node-head' },
      n.status === 'Running' ? el('vscode-progress-ring', { 'aria-label': 'Running' }) : null,
      el('span', { class: `status status-${n.status}` }, n.status),
      el('strong', { class: 'node-name' }, n.node),
      el('span', { class: 'muted' }, formatDuration(n.durationMs)),
    ),
    n.log ? pre(n.logTruncated ? `[earlier output not shown]\n${n.log}` : n.log, { class: 'node-log' }) : null,
    n.output !== undefined ? renderValue(n.output, runId ? { runId, kind: 'node', name: n.node } : undefined, 'node-output') : null,
    n.error ? errorBlock(n.error, 'node-error') : null,
  );
}

export function renderRun(run: RunView | null): Node[] {
  if (!run) return [];
  const active = run.status === 'Preparing' || run.status === 'Running';
  return [
    el(
      'div',
      { class: 'run-head', 'data-testid': 'run-head' },
      el(
        'span',
        { class: `status status-${run.status}`, 'data-testid': 'run-status' },
        run.status === 'Preparing' ? 'Preparing the session' : run.status,
      ),
      run.node ? el('span', { 'data-testid': 'run-node' }, `node ${run.node}`) : null,
      el('code', { class: 'muted' }, run.runId),
      el('span', { class: 'muted' }, formatDuration(run.durationMs)),
      run.variants ? el('span', { class: 'muted', 'data-testid': 'run-variants' }, `variants: ${formatVariants(run.variants)}`) : null,
      active ? el('vscode-button', { 'data-action': 'cancel', 'data-run': run.runId, appearance: 'secondary' }, 'Cancel') : null,
    ),
    el('div', { class: 'nodes', 'data-testid': 'run-nodes' }, ...run.nodes.map((n) => nodeBlock(n, active ? undefined : run.runId))),
    run.error ? errorBlock(run.error, 'run-error') : null,
    !run.outputs && run.streamed && Object.keys(run.streamed).length
      ? el(
          'div',
          { class: 'outputs' },
          el('h3', {}, active ? 'Outputs (streaming)' : 'Streamed outputs'),
          ...Object.entries(run.streamed).map(([name, text]) =>
            el('div', { class: 'streamed', 'data-output': name }, el('strong', {}, name), pre(text, { 'data-testid': 'run-streamed' })),
          ),
        )
      : null,
    // values are opened whole from the run's files, which exist once the run ended
    run.outputs
      ? el('div', { class: 'outputs' }, el('h3', {}, 'Outputs'), renderOutputs(run.outputs, active ? undefined : run.runId))
      : null,
    run.metrics
      ? el(
          'div',
          { class: 'run-metrics', 'data-testid': 'run-metrics' },
          el('h3', {}, 'Metrics'),
          ...Object.entries(run.metrics).map(([k, v]) => el('div', { 'data-metric': k }, el('code', {}, k), ` ${formatMetric(v)}`)),
        )
      : null,
    run.timeline && run.timeline.rows.length ? renderTimeline(run.timeline) : null,
  ].filter((n): n is HTMLElement => n !== null);
}
