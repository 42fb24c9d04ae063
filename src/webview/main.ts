/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The session panel's script (bundled to dist/webview/panel.js). It shows the state the host sends,
 * keeps the user's form drafts, and sends the host requests; it never decides anything the host has
 * to trust. When the panel is hidden the page is destroyed: it comes back from vscode.getState at once
 * and from the host's answer to `ready`.
 */
import { append, el } from './dom';
import type { FormValue } from '../shared/inputsForm';
import { parseInputValue } from '../shared/inputValue';
import { applyHostMessage, isRunActive } from '../shared/panelState';
import type { HostMessage, PanelState } from '../shared/protocol';
import { renderChatInput, renderChatTranscript } from './views/chatView';
import { COMPARE_LIMITS } from '../shared/comparison';
import { renderComparison } from './views/compareView';
import { renderForm } from './views/formView';
import { renderGraph } from './views/graphView';
import { renderHistory } from './views/historyView';
import { renderPackages } from './views/packagesView';
import { renderRun } from './views/runView';
import { renderTimeline } from './views/timelineView';
import { renderSession } from './views/sessionView';
import { renderVariants } from './views/variantsView';
import { effectivePicks } from '../shared/variantChoices';
import { vscodeApi } from './vscodeApi';

interface Saved {
  panel: PanelState;
  drafts: Record<string, FormValue>;
  tab: string;
  chatDraft?: string;
  /** node -> the variant picked for the next run */
  variantPicks?: Record<string, string>;
  /** runs of the history ticked for a comparison */
  selected?: string[];
  /** the graph scaled to the panel's width */
  graphFit?: boolean;
}

const api = vscodeApi<Saved>();
const saved = api.getState();
let state: PanelState | null = saved?.panel ?? null;
let drafts: Record<string, FormValue> = { ...(saved?.drafts ?? {}) };
let tab = saved?.tab ?? 'tab-run';
let chatDraft = saved?.chatDraft ?? '';
let variantPicks: Record<string, string> = { ...(saved?.variantPicks ?? {}) };
let variantsDirty = true;
let selected = new Set<string>(saved?.selected ?? []);
let graphFit = saved?.graphFit ?? false;
let historyDirty = false;
/** the run's node statuses the graph was last drawn with */
let shownGraphKey: string | undefined;
/** the state as last rendered, to re-render only the parts that changed */
let shown: PanelState | null = null;
let formDirty = true;
let chatInputDirty = true;
let frame = 0;

// ---- the page's fixed skeleton ------------------------------------------------------------------

const title = el('h1', { class: 'title' });
const subtitle = el('div', { class: 'muted path' });
const sessionBox = el('section', { class: 'session', 'aria-label': 'Session', 'data-testid': 'session' });
const noticeBox = el('div', { class: 'notice-box' });
const formBox = el('div', { class: 'run-form' });
const variantsBox = el('div', { class: 'run-variants' });
const runBox = el('div', { class: 'run-output', 'data-testid': 'run-output' });
const chatTranscriptBox = el('div', { class: 'chat-log' });
const chatInputBox = el('div', { class: 'chat-input' });
const chatBox = el('section', { class: 'chat', 'aria-label': 'Chat', 'data-testid': 'chat' }, chatTranscriptBox, chatInputBox);
const graphBox = el('div', { class: 'graph-box-wrap', 'data-testid': 'graph' });
const comparisonBox = el('div', { class: 'comparison-box' });
const historyTraceBox = el('div', { class: 'history-trace' });
const packagesBox = el('div', { class: 'packages' });
const historyBox = el('div', { class: 'history' });
// a plain count: the toolkit's vscode-badge writes a style attribute, which the CSP blocks
const packagesCount = el('span', { class: 'count', 'data-testid': 'packages-count' }, '0');
const panels = el(
  'vscode-panels',
  { activeid: tab, 'aria-label': 'Session panel' },
  el('vscode-panel-tab', { id: 'tab-run' }, 'Run'),
  el('vscode-panel-tab', { id: 'tab-packages' }, 'Packages ', packagesCount),
  el('vscode-panel-tab', { id: 'tab-history' }, 'History'),
  el(
    'vscode-panel-view',
    { id: 'view-run' },
    el(
      'div',
      { class: 'stack' },
      chatBox,
      formBox,
      variantsBox,
      el('details', { class: 'graph-section', open: true }, el('summary', {}, 'Graph'), graphBox),
      runBox,
    ),
  ),
  el('vscode-panel-view', { id: 'view-packages' }, packagesBox),
  el('vscode-panel-view', { id: 'view-history' }, el('div', { class: 'stack' }, historyBox, historyTraceBox, comparisonBox)),
);

const app = document.getElementById('app') ?? document.body;
app.replaceChildren(el('header', {}, title, subtitle), sessionBox, noticeBox, panels);

// ---- rendering ------------------------------------------------------------------------------------

function schedule(): void {
  if (!frame) frame = requestAnimationFrame(render);
}

function fill(box: Element, nodes: Node[]): void {
  box.replaceChildren();
  append(box, nodes);
}

function render(): void {
  frame = 0;
  if (!state) return;
  const s = state;
  const prev = shown;
  if (prev?.flowName !== s.flowName || prev?.flowDir !== s.flowDir) {
    title.textContent = `Flow session: ${s.flowName}`;
    subtitle.textContent = s.flowDir;
  }
  if (prev?.session !== s.session || prev?.progress !== s.progress) fill(sessionBox, renderSession(s.session, s.progress));
  if (prev?.notice !== s.notice) {
    fill(
      noticeBox,
      s.notice
        ? [
            el(
              'div',
              { class: `notice notice-${s.notice.level}`, role: s.notice.level === 'error' ? 'alert' : 'status', 'data-testid': 'notice' },
              s.notice.message,
            ),
          ]
        : [],
    );
  }
  const active = isRunActive(s.run);
  if (formDirty || prev?.fields !== s.fields || prev?.fieldsError !== s.fieldsError || prev?.formErrors !== s.formErrors) {
    formDirty = false;
    fill(formBox, renderForm(s.fields, s.fieldsError, drafts, s.formErrors, active));
  } else if (isRunActive(prev?.run ?? null) !== active) {
    // only the buttons change with a run: the fields keep their focus
    for (const b of formBox.querySelectorAll('.actions vscode-button')) b.toggleAttribute('disabled', active);
  }
  if (variantsDirty || prev?.variantChoices !== s.variantChoices || isRunActive(prev?.run ?? null) !== active) {
    variantsDirty = false;
    fill(variantsBox, renderVariants(s.variantChoices ?? [], variantPicks, active));
  }
  if (prev?.run !== s.run) fill(runBox, renderRun(s.run));
  chatBox.hidden = s.chat === null;
  if (prev?.chat !== s.chat || (s.chat?.pending && prev?.run !== s.run)) fill(chatTranscriptBox, renderChatTranscript(s.chat, s.run));
  if (chatInputDirty || chatShapeKey(prev) !== chatShapeKey(s)) {
    chatInputDirty = false;
    fill(chatInputBox, renderChatInput(s.chat, chatDraft, active));
  } else if (isRunActive(prev?.run ?? null) !== active) {
    for (const b of chatInputBox.querySelectorAll('.actions vscode-button')) b.toggleAttribute('disabled', active);
  }
  // a run's log lines change the run but not the graph: it is drawn again only when a node's status or time changed
  const graphKey = `${graphFit} ${
    s.run ? `${s.run.runId} ${s.run.status} ${s.run.nodes.map((n) => `${n.node}:${n.status}:${n.durationMs ?? ''}`).join(',')}` : ''
  }`;
  if (prev?.graph !== s.graph || prev?.graphError !== s.graphError || graphKey !== shownGraphKey) {
    shownGraphKey = graphKey;
    fill(graphBox, renderGraph(s.graph, s.graphError, s.run, graphFit));
  }
  if (prev?.comparison !== s.comparison) fill(comparisonBox, s.comparison ? [renderComparison(s.comparison)] : []);
  if (prev?.historyTrace !== s.historyTrace)
    fill(
      historyTraceBox,
      s.historyTrace
        ? [
            el(
              'div',
              { class: 'section-head' },
              el('span', {}, 'Trace of ', el('code', {}, s.historyTrace.runId)),
              el('vscode-button', { 'data-action': 'hideTrace', appearance: 'secondary' }, 'Close'),
            ),
            renderTimeline(s.historyTrace.timeline),
          ]
        : [],
    );
  if (prev?.packages !== s.packages) {
    fill(packagesBox, renderPackages(s.packages));
    packagesCount.textContent = String(s.packages.items.length);
  }
  if (prev?.history !== s.history || historyDirty) {
    historyDirty = false;
    // a run that left the history cannot stay selected
    selected = new Set([...selected].filter((id) => s.history.some((r) => r.runId === id)));
    fill(historyBox, renderHistory(s.history, selected));
  }
  shown = s;
  save();
}

/** What the message box depends on: a chat or none, its problem, its inputs. */
function chatShapeKey(s: PanelState | null): string {
  const c = s?.chat;
  return c ? JSON.stringify([c.input, c.history, c.output ?? null, c.problem ?? null]) : '';
}

function save(): void {
  if (state) api.setState({ panel: state, drafts, tab, chatDraft, variantPicks, selected: [...selected], graphFit });
}

// ---- from the host --------------------------------------------------------------------------------

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const msg = event.data as HostMessage | null;
  if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return;
  if (msg.type === 'state') {
    // a new page or a re-sent state: draw everything again
    shown = null;
    formDirty = true;
    variantsDirty = true;
    historyDirty = true;
    state = msg.state;
  } else {
    if (!state) return;
    state = applyHostMessage(state, msg);
  }
  if (msg.type === 'fields') {
    // drafts of inputs that are gone, or whose kind changed (text ↔ checkbox), are dropped
    const kinds = new Map(state.fields.map((f) => [f.name, typeof f.initial]));
    drafts = Object.fromEntries(Object.entries(drafts).filter(([n, v]) => kinds.get(n) === typeof v));
  }
  schedule();
});

// ---- from the user ---------------------------------------------------------------------------------

function fieldValue(target: Element): FormValue | undefined {
  if (target.tagName === 'VSCODE-CHECKBOX') return (target as HTMLElement & { checked: boolean }).checked;
  const v = (target as HTMLElement & { value?: unknown }).value;
  return typeof v === 'string' ? v : undefined;
}

function showFieldError(name: string, error: string): void {
  for (const e of formBox.querySelectorAll<HTMLElement>('[data-error-for]')) {
    if (e.dataset.errorFor === name) e.textContent = error;
  }
}

function onFieldEdit(event: Event): void {
  const target = (event.target as Element | null)?.closest('[data-input]');
  if (!target || !state) return;
  const name = target.getAttribute('data-input') ?? '';
  const field = state.fields.find((f) => f.name === name);
  const value = fieldValue(target);
  if (!field || value === undefined) return;
  drafts[name] = value;
  const r = parseInputValue(field.type, value);
  showFieldError(name, r.ok ? '' : r.error);
  save();
}
formBox.addEventListener('input', onFieldEdit);
formBox.addEventListener('change', onFieldEdit);

variantsBox.addEventListener('change', (event) => {
  const target = event.target as HTMLSelectElement | null;
  const node = target?.getAttribute('data-variant');
  if (!target || !node) return;
  variantPicks[node] = target.value;
  save();
});

/** The form's values (drafts, else defaults) of every input but `skip`, or undefined when one is not valid. */
function formInputs(skip: string[] = []): Record<string, FormValue> | undefined {
  if (!state) return undefined;
  const inputs: Record<string, FormValue> = {};
  let valid = true;
  for (const f of state.fields) {
    if (skip.includes(f.name)) continue;
    const d = Object.prototype.hasOwnProperty.call(drafts, f.name) ? drafts[f.name] : undefined;
    const value = d !== undefined && typeof d === typeof f.initial ? d : f.initial;
    const r = parseInputValue(f.type, value);
    showFieldError(f.name, r.ok ? '' : r.error);
    valid &&= r.ok;
    inputs[f.name] = value;
  }
  return valid ? inputs : undefined;
}

function runRequest(): void {
  if (!state || isRunActive(state.run)) return;
  // the host checks again; this only spares a round trip for an obvious mistake
  const inputs = formInputs();
  if (!inputs) return;
  if (!state.variantChoices?.length) api.postMessage({ type: 'run', inputs });
  else api.postMessage({ type: 'run', inputs, variants: effectivePicks(state.variantChoices, variantPicks) });
}

function chatRequest(): void {
  const chat = state?.chat;
  if (!state || !chat || chat.problem || isRunActive(state.run)) return;
  const message = chatDraft;
  if (message.trim() === '') return;
  // the chat's own inputs come from the host (the message, the history); the others from the Run form
  const inputs = formInputs([chat.input, chat.history]);
  if (!inputs) return;
  api.postMessage({ type: 'chatSend', message, inputs });
  chatDraft = '';
  chatInputDirty = true;
  schedule();
}

function onChatEdit(event: Event): void {
  const target = (event.target as Element | null)?.closest('[data-chat-draft]');
  const v = (target as (HTMLElement & { value?: unknown }) | null)?.value;
  if (typeof v !== 'string') return;
  chatDraft = v;
  save();
}
chatInputBox.addEventListener('input', onChatEdit);
chatInputBox.addEventListener('change', onChatEdit);
chatInputBox.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    onChatEdit(event);
    chatRequest();
  }
});

document.addEventListener('click', (event) => {
  const target = (event.target as Element | null)?.closest<HTMLElement>('[data-action]');
  if (!target || target.hasAttribute('disabled')) return;
  const action = target.dataset.action;
  switch (action) {
    case 'run':
      return runRequest();
    case 'chatSend':
      return chatRequest();
    case 'chatClear':
      api.postMessage({ type: 'chatClear' });
      return;
    case 'cancel':
      if (target.dataset.run) api.postMessage({ type: 'cancel', runId: target.dataset.run });
      return;
    case 'resetForm':
      drafts = {};
      variantPicks = {};
      formDirty = true;
      variantsDirty = true;
      schedule();
      return;
    case 'toggleGraphFit':
      graphFit = !graphFit;
      schedule();
      return;
    case 'openNodeSource':
      if (target.dataset.node) api.postMessage({ type: 'openNodeSource', node: target.dataset.node });
      return;
    case 'openValue':
      event.preventDefault();
      if (target.dataset.run && target.dataset.name && (target.dataset.kind === 'node' || target.dataset.kind === 'output'))
        api.postMessage({ type: 'openValue', runId: target.dataset.run, kind: target.dataset.kind, name: target.dataset.name });
      return;
    case 'compare': {
      // in the history's order (newest first), as many as a comparison shows
      const runIds = (state?.history ?? []).map((r) => r.runId).filter((id) => selected.has(id));
      if (runIds.length >= COMPARE_LIMITS.minRuns)
        api.postMessage({ type: 'compareRuns', runIds: runIds.slice(0, COMPARE_LIMITS.maxRuns) });
      return;
    }
    case 'showTrace':
      event.preventDefault();
      if (target.dataset.run) api.postMessage({ type: 'showTrace', runId: target.dataset.run });
      return;
    case 'hideTrace':
      api.postMessage({ type: 'hideTrace' });
      return;
    case 'closeComparison':
      api.postMessage({ type: 'compareRuns', runIds: [] });
      return;
    case 'openFile':
      event.preventDefault();
      if (target.dataset.run && target.dataset.file)
        api.postMessage({ type: 'openFile', runId: target.dataset.run, file: target.dataset.file });
      return;
    case 'startSession':
    case 'resetSession':
    case 'refreshPackages':
      api.postMessage({ type: action });
      return;
  }
});

historyBox.addEventListener('change', (event) => {
  const box = (event.target as Element | null)?.closest('[data-select]');
  if (!box) return;
  const runId = box.getAttribute('data-select') ?? '';
  if ((box as HTMLElement & { checked: boolean }).checked) selected.add(runId);
  else selected.delete(runId);
  historyDirty = true;
  schedule();
});

// a graph node has focus like a button: Enter or Space opens its source
graphBox.addEventListener('keydown', (event) => {
  const node = (event.target as Element | null)?.closest('[data-action="openNodeSource"]');
  if (!node || (event.key !== 'Enter' && event.key !== ' ')) return;
  event.preventDefault();
  const name = node.getAttribute('data-node');
  if (name) api.postMessage({ type: 'openNodeSource', node: name });
});

panels.addEventListener('change', (event) => {
  if (event.target !== panels) return;
  const id = panels.getAttribute('activeid') ?? (panels as HTMLElement & { activeid?: string }).activeid;
  if (id) {
    tab = id;
    save();
  }
});

if (state) render();
api.postMessage({ type: 'ready' });
