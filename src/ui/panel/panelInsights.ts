/**
 * The session panel's requests about what a flow is and what its runs did: a graph node's source, a whole value
 * of a run, a run's trace, runs side by side. Kept apart from the controller, which owns the panel's state and
 * runs; these only read the flow and its run folders and answer with a message or an editor.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { entryLine, entryStepOf } from '../../core/flow/entryStep';
import { definitionFileIn } from '../../core/flow/flowKind';
import { nodeSource } from '../../core/flow/nodeSource';
import { analyzeFlowDir } from '../../core/flow/staticChecks';
import { compareRuns, runValue } from '../../core/runs/runComparison';
import { readTrace, runFolder } from '../../core/runs/runStore';
import type { HostMessage, WebviewMessage } from '../../shared/protocol';
import { timeline, type Timeline, type TraceSpan } from '../../shared/trace';

/** spans drawn in the panel's timeline; a longer trace is whole in trace.json */
const TIMELINE_ROWS = 300;

export type InsightRequest = Extract<WebviewMessage, { type: 'openNodeSource' | 'openValue' | 'compareRuns' | 'showTrace' | 'hideTrace' }>;

const INSIGHT_REQUESTS: ReadonlySet<WebviewMessage['type']> = new Set<InsightRequest['type']>([
  'openNodeSource',
  'openValue',
  'compareRuns',
  'showTrace',
  'hideTrace',
]);

export function isInsightRequest(msg: WebviewMessage): msg is InsightRequest {
  return INSIGHT_REQUESTS.has(msg.type);
}

export interface InsightContext {
  flowDir: string;
  post(msg: HostMessage): void;
  notice(level: 'info' | 'error', message: string): void;
  openSource(absPath: string, line: number): PromiseLike<unknown>;
  openUntitled(text: string, language: 'json' | 'plaintext'): PromiseLike<unknown>;
}

/** A run's spans as the panel's timeline draws them. */
export function runTimeline(spans: readonly TraceSpan[]): Timeline {
  return timeline(spans, TIMELINE_ROWS);
}

export async function handleInsightRequest(msg: InsightRequest, ctx: InsightContext): Promise<void> {
  switch (msg.type) {
    case 'openNodeSource': {
      if (definitionFileIn(ctx.flowDir)?.kind !== 'dag') return openEntrySource(ctx, msg.node);
      const flow = (await analyzeFlowDir(ctx.flowDir)).parsed.value;
      const where = await nodeSource(ctx.flowDir, flow, msg.node);
      if ('problem' in where) return ctx.notice('info', where.problem);
      await ctx.openSource(where.file, where.line);
      return;
    }
    case 'openValue': {
      const value = await runValue(ctx.flowDir, msg.runId, msg.kind, msg.name);
      if (!value)
        return ctx.notice(
          'info',
          `The ${msg.kind === 'node' ? 'output of node' : 'flow output'} '${msg.name}' is not in the files of run ${msg.runId}.`,
        );
      await ctx.openUntitled(value.text, value.json ? 'json' : 'plaintext');
      return;
    }
    case 'showTrace': {
      const spans = await readTrace(runFolder(ctx.flowDir, msg.runId));
      if (spans.length === 0) return ctx.notice('info', `Run ${msg.runId} has no trace (trace.json) to show.`);
      ctx.post({ type: 'historyTrace', trace: { runId: msg.runId, timeline: runTimeline(spans) } });
      return;
    }
    case 'hideTrace':
      ctx.post({ type: 'historyTrace', trace: null });
      return;
    case 'compareRuns':
      ctx.post({ type: 'comparison', comparison: msg.runIds.length ? await compareRuns(ctx.flowDir, msg.runIds) : null });
      return;
  }
}

/** Opens a flex flow's entry (at its def or class) or a prompty, when its file is a regular file inside the flow folder. */
async function openEntrySource(ctx: InsightContext, name: string): Promise<void> {
  const step = await entryStepOf(ctx.flowDir).catch(() => undefined);
  const missing = `The source of '${name}' cannot be opened: the flow's definition does not name a file of the flow folder.`;
  if (!step?.source || step.name !== name) return ctx.notice('info', missing);
  const file = path.resolve(ctx.flowDir, step.source);
  const rel = path.relative(ctx.flowDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return ctx.notice('info', missing);
  const text = await fsp
    .lstat(file)
    .then((st) => (st.isFile() ? fsp.readFile(file, 'utf8') : undefined))
    .catch(() => undefined);
  if (text === undefined) return ctx.notice('info', `The source of '${name}' (${step.source}) is not a file of the flow folder.`);
  await ctx.openSource(file, step.kind === 'flex' ? entryLine(text, name) : 1);
}
