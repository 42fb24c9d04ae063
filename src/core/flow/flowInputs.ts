import { promises as fsp } from 'fs';
import * as path from 'path';
import { FlowSessionError } from '../errors';
import { analyzeFlexText } from './flexDocument';
import { definitionText, locateFlow } from './flowKind';
import { isMapping, Mapping } from './flowModel';
import { FlowProblem } from './problem';
import { analyzePromptyText } from './promptyDocument';
import { analyzeFlowDir } from './staticChecks';

const MAX_SAMPLE_BYTES = 1024 * 1024;

export type FlowInputSpecs = Record<string, { type?: string; default?: unknown }>;

/**
 * The inputs a flow declares, as a run form asks for them: a DAG's `inputs`; a flex flow's `inputs` in
 * flow.flex.yaml with `sample.inputs` as defaults (the entry's signature is the session's to read); a prompty's
 * front matter `inputs` with its `sample` as defaults. Throws a flow-definition-error when the definition has errors.
 */
export async function flowInputsOf(flowPath: string): Promise<FlowInputSpecs> {
  const target = locateFlow(flowPath);
  let problems: FlowProblem[];
  let inputs: unknown;
  let sample: unknown;
  if (target.kind === 'dag') {
    const a = await analyzeFlowDir(target.dir);
    problems = a.problems;
    inputs = isMapping(a.parsed.value) ? a.parsed.value.inputs : undefined;
  } else if (target.kind === 'flex') {
    const a = analyzeFlexText(await definitionText(target), target.file);
    problems = a.problems;
    inputs = a.value?.inputs;
    sample = isMapping(a.value?.sample) ? a.value.sample.inputs : undefined;
  } else {
    const a = analyzePromptyText(await definitionText(target), target.file);
    problems = a.problems;
    inputs = a.config?.inputs;
    sample = a.config?.sample;
  }
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length)
    throw new FlowSessionError(
      'flow-definition-error',
      `${errors[0].message} (${errors[0].file}:${errors[0].line})`,
      'Fix the problems shown in the Problems panel, then run again.',
    );
  const out: FlowInputSpecs = {};
  for (const [name, spec] of Object.entries(isMapping(inputs) ? inputs : {})) {
    const s: Mapping = isMapping(spec) ? spec : {};
    out[name] = { ...(typeof s.type === 'string' ? { type: s.type } : {}), ...('default' in s ? { default: s.default } : {}) };
  }
  const samples = isMapping(sample) ? sample : await sampleFile(sample, path.dirname(path.join(target.dir, target.file)));
  for (const [name, v] of Object.entries(samples)) out[name] = { ...out[name], default: v };
  return out;
}

/** A sample given as a JSON file (`sample.json` or `${file:sample.json}`), read when it is small; {} otherwise. */
async function sampleFile(sample: unknown, base: string): Promise<Mapping> {
  if (typeof sample !== 'string') return {};
  const m = /^\$\{file:(.+)\}$/.exec(sample.trim());
  const rel = m ? m[1] : sample.trim();
  if (!/\.json$/i.test(rel)) return {};
  try {
    const abs = path.resolve(base, rel);
    if ((await fsp.stat(abs)).size > MAX_SAMPLE_BYTES) return {};
    const parsed: unknown = JSON.parse(await fsp.readFile(abs, 'utf8'));
    return isMapping(parsed) ? parsed : {};
  } catch {
    return {}; // a missing or broken sample leaves the form without defaults; the run reports it
  }
}
