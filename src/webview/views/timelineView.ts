/// <reference lib="dom" />
/** A run's trace as a timeline: one bar per span (line, node, LLM call) on a shared time axis, with tokens. */
import { el, formatDuration, svg } from '../dom';
import { tokensText, type Timeline } from '../../shared/trace';

/** the bars' drawing width in SVG units; the SVG scales to the panel's width */
const WIDTH = 1000;

export function renderTimeline(tl: Timeline): HTMLElement {
  const total = Math.max(tl.totalMs, 0.001);
  const rows = tl.rows.map((r) =>
    el(
      'div',
      { class: `trace-row kind-${r.kind} trace-${r.status}`, 'data-span': r.name, 'data-kind': r.kind },
      el('span', { class: `trace-name depth-${Math.min(r.depth, 6)}`, title: r.message ?? r.name }, r.name),
      svg(
        'svg',
        { class: 'trace-bar', viewBox: `0 0 ${WIDTH} 10`, preserveAspectRatio: 'none', 'aria-hidden': 'true' },
        svg('rect', {
          x: ((r.startMs / total) * WIDTH).toFixed(1),
          y: 1,
          width: Math.max(2, (r.durationMs / total) * WIDTH).toFixed(1),
          height: 8,
          class: `trace-rect kind-${r.kind}`,
        }),
      ),
      el('span', { class: 'trace-duration' }, formatDuration(r.durationMs)),
      el('span', { class: 'trace-tokens muted' }, r.tokens ? tokensText(r.tokens) : (r.model ?? '')),
    ),
  );
  const perNode = Object.entries(tl.totals.byNode);
  return el(
    'div',
    { class: 'trace', 'data-testid': 'trace-timeline' },
    el('h3', {}, 'Trace'),
    el(
      'div',
      { class: 'trace-totals', 'data-testid': 'trace-totals' },
      `${tl.totals.llmCalls} LLM call${tl.totals.llmCalls === 1 ? '' : 's'}, ${tokensText(tl.totals.run)} in ${formatDuration(tl.totalMs)}`,
    ),
    perNode.length
      ? el('div', { class: 'trace-per-node muted' }, 'Per node: ', perNode.map(([node, t]) => `${node} ${tokensText(t)}`).join('; '))
      : null,
    el('div', { class: 'trace-rows' }, ...rows),
    tl.omitted ? el('p', { class: 'muted' }, `${tl.omitted} more spans are in trace.json of the run.`) : null,
  );
}
