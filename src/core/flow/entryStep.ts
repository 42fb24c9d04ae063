/**
 * The one step of a flex flow or a prompty as its runs name it: a flex flow's entry (`module:name` → name, the
 * function's or class's name the runtime gives its node events and spans), or a prompty (its front matter's `name`,
 * else the file's name without .prompty). The session panel draws it as the graph of such a flow and opens its
 * source when it is clicked.
 */
import * as path from 'path';
import { analyzeFlexText } from './flexDocument';
import { definitionText, locateFlow } from './flowKind';
import { isMapping } from './flowModel';
import { analyzePromptyText } from './promptyDocument';

export interface EntryStep {
  kind: 'flex' | 'prompty';
  /** the step's name in the run's node events and trace */
  name: string;
  /** its file relative to the flow folder (the entry's module, the .prompty), when known */
  source?: string;
  /** the outputs the definition declares (a flex flow's `outputs`, a prompty's), in order */
  outputs: string[];
}

/** The step of the flex flow or prompty at `flowPath`; undefined for a DAG or a definition that cannot be read. */
export async function entryStepOf(flowPath: string): Promise<EntryStep | undefined> {
  const target = locateFlow(flowPath);
  if (target.kind === 'dag') return undefined;
  const text = await definitionText(target);
  if (target.kind === 'flex') {
    const a = analyzeFlexText(text, target.file);
    const entry = a.value?.entry;
    if (typeof entry !== 'string' || !entry.includes(':')) return undefined;
    const name = entry.slice(entry.indexOf(':') + 1).trim();
    if (!name) return undefined;
    return { kind: 'flex', name, ...(a.entryModule ? { source: a.entryModule } : {}), outputs: keysOf(a.value?.outputs) };
  }
  const a = analyzePromptyText(text, target.file);
  if (!a.config) return undefined;
  const declared = typeof a.config.name === 'string' && a.config.name ? a.config.name : undefined;
  return {
    kind: 'prompty',
    name: declared ?? path.basename(target.file).replace(/\.prompty$/i, ''),
    source: target.file,
    outputs: keysOf(a.config.outputs),
  };
}

function keysOf(v: unknown): string[] {
  return isMapping(v) ? Object.keys(v) : [];
}

/** The 1-based line where the entry is defined in its module (`def name`, `async def name`, `class name`), or 1. */
export function entryLine(code: string, name: string): number {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const def = new RegExp(`^\\s*(?:async\\s+def|def|class)\\s+${escaped}\\b`);
  const i = code.split(/\r?\n/).findIndex((l) => def.test(l));
  return i >= 0 ? i + 1 : 1;
}
