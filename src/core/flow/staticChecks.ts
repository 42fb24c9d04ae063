import { promises as fsp } from 'fs';
import * as path from 'path';
import { definitionFileIn } from './flowKind';
import { FLOW_FILE, MAX_FLOW_BYTES, ParsedFlow, parseFlowDocument, tooLargeProblem } from './dagDocument';
import { buildModel, FlowModel, isMapping } from './flowModel';
import { msg } from './messages';
import { FlowProblem } from './problem';
import { ProblemSink } from './problemSink';
import { checkSchema, SourceRef } from './schema';
import { checkGraph } from './graph';
import { includeScopeFor } from './includeScope';
import { checkIncludes, checkSources, fsProbe, IncludeRef, normalizeRel, PathProbe, refusedLinks } from './sources';

export interface FlowAnalysis {
  parsed: ParsedFlow;
  /** undefined when the YAML itself could not be read */
  model: FlowModel | undefined;
  includes: IncludeRef[];
  /** node source files as written in the YAML (code paths and prompt templates) */
  sources: SourceRef[];
  problems: FlowProblem[];
}

/**
 * All static checks on the text of flow.dag.yaml. Pure apart from `probe`, which answers
 * whether a path relative to the flow folder is a file; never throws.
 */
export function analyzeFlowText(input: string | Uint8Array, probe: PathProbe, file = FLOW_FILE): FlowAnalysis {
  const parsed = parseRemembered(input, file);
  const empty = { parsed, model: undefined, includes: [], sources: [] };
  if (parsed.problems.length > 0) return { ...empty, problems: parsed.problems };
  const sink = new ProblemSink(parsed);
  try {
    if (parsed.value !== null && !isMapping(parsed.value)) {
      sink.error('FlowDefinitionError', msg.notMapping('The flow definition'), []);
      return { ...empty, problems: sink.problems };
    }
    const model = buildModel(parsed.value);
    const sources = checkSchema(model, sink);
    checkGraph(model, sink);
    const includes = checkIncludes(model, probe, sink);
    checkSources(sources, includes, probe, sink);
    return { parsed, model, includes, sources, problems: sortProblems(sink.problems) };
  } catch (e) {
    // a bug here must not take the editor's validation down; report it where the user looks
    sink.error('FlowDefinitionError', `Static checks stopped early: ${e instanceof Error ? e.message : String(e)}`, []);
    return { ...empty, problems: sink.problems };
  }
}

/** The problems of `analyzeFlowText`. */
export function checkFlowText(input: string | Uint8Array, probe: PathProbe, file = FLOW_FILE): FlowProblem[] {
  return analyzeFlowText(input, probe, file).problems;
}

/** Reads `<flowDir>/flow.dag.yaml` and analyses it against the real folder. Never rejects. */
export async function analyzeFlowDir(flowDir: string): Promise<FlowAnalysis> {
  const def = definitionFileIn(flowDir);
  const name = def?.kind === 'dag' ? def.file : FLOW_FILE;
  const file = path.join(flowDir, name);
  const failWith = (problem: FlowProblem): FlowAnalysis => ({
    parsed: { ...parseFlowDocument(''), problems: [problem] },
    model: undefined,
    includes: [],
    sources: [],
    problems: [problem],
  });
  const fail = (message: string) =>
    failWith({ code: 'FlowDefinitionError', message, file: FLOW_FILE, line: 1, column: 1, endLine: 1, endColumn: 2, severity: 'error' });
  let data: Buffer;
  try {
    const st = await fsp.stat(file);
    if (!st.isFile()) return fail(msg.noFlowFile(flowDir));
    // checked before reading so a huge file is never loaded into memory
    if (st.size > MAX_FLOW_BYTES) return failWith(tooLargeProblem(st.size));
    data = await fsp.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? msg.noFlowFile(flowDir) : msg.unreadableFlowFile(code ?? String(e)));
  }
  const scope = includeScopeFor(flowDir);
  const pendingLinks = refusedLinks(flowDir, scope); // the folder is read while the text is checked
  const analysis = analyzeFlowText(data, fsProbe(flowDir, scope), name);
  const links = await pendingLinks;
  // a refused link that a node names is reported on that node's source already
  const named = new Set(analysis.sources.map((s) => normalizeRel(s.path).split('/')[0]));
  const linkProblems: FlowProblem[] = links
    .filter((l) => !named.has(l.name))
    .map((l) => ({
      code: 'SymlinkOutsideScope',
      message: msg.refusedLink(l.name, l.refusal),
      file: name,
      line: 1,
      column: 1,
      endLine: 1,
      endColumn: 2,
      severity: 'warning',
    }));
  return linkProblems.length ? { ...analysis, problems: [...analysis.problems, ...linkProblems] } : analysis;
}

/** Static problems of the flow in `flowDir`, sorted by position. */
export async function checkFlowStatic(flowDir: string): Promise<FlowProblem[]> {
  return (await analyzeFlowDir(flowDir)).problems;
}

/** texts up to this size keep their parse: a save of a tool source re-checks an unchanged flow.dag.yaml */
const REMEMBERED_TEXT_LIMIT = 256 * 1024;
const REMEMBERED_PARSES = 16;
const parses = new Map<string, ParsedFlow>();

/**
 * The parse of a flow text seen before (most of the static checks' time is the YAML parse); each caller gets
 * its own copy of the plain value, so nothing a caller changes reaches the next one.
 */
function parseRemembered(input: string | Uint8Array, file: string): ParsedFlow {
  const size = typeof input === 'string' ? input.length : input.byteLength;
  if (size > REMEMBERED_TEXT_LIMIT) return parseFlowDocument(input, file);
  const key = `${file}\0${typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1')}`;
  let parsed = parses.get(key);
  if (parsed) {
    parses.delete(key); // most recently used goes last
  } else {
    parsed = parseFlowDocument(input, file);
    if (parses.size >= REMEMBERED_PARSES) parses.delete(parses.keys().next().value as string);
  }
  parses.set(key, parsed);
  return { ...parsed, problems: [...parsed.problems], value: structuredClone(parsed.value) };
}

function sortProblems(problems: FlowProblem[]): FlowProblem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.line - b.p.line || a.p.column - b.p.column || a.i - b.i)
    .map((x) => x.p);
}
