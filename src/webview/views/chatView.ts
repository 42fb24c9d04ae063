/// <reference lib="dom" />
/**
 * The chat of a chat flow: the turns so far, the answer of the turn under way as it streams, failed turns with
 * their error in place, and the message box with Send and Clear. The transcript is redrawn as the answer streams;
 * the message box only when the chat appears, goes or changes shape, so typing keeps its focus.
 */
import { el, pre } from '../dom';
import type { ChatView, RunErrorView, RunView } from '../../shared/protocol';

export type ChatEntry =
  { role: 'user'; text: string } | { role: 'assistant'; text: string; streaming?: boolean } | { role: 'error'; error: RunErrorView };

/** What the transcript shows, in order: each turn's message, then its answer or error; then the turn under way. */
export function chatEntries(chat: ChatView | null, run: RunView | null): ChatEntry[] {
  if (!chat) return [];
  const entries: ChatEntry[] = [];
  for (const t of chat.turns) {
    entries.push({ role: 'user', text: t.message });
    if (t.error) entries.push({ role: 'error', error: t.error });
    else entries.push({ role: 'assistant', text: t.answer ?? '' });
  }
  if (chat.pending) {
    entries.push({ role: 'user', text: chat.pending.message });
    const current = run && run.runId === chat.pending.runId ? run : null;
    const streamed = current?.streamed ?? {};
    // the chat output's text so far; a flow without a marked output streams under its node's outputs
    const key = chat.output ?? Object.keys(streamed)[0];
    const text = key !== undefined && Object.prototype.hasOwnProperty.call(streamed, key) ? streamed[key] : '';
    entries.push({ role: 'assistant', text, streaming: true });
  }
  return entries;
}

function entryBlock(e: ChatEntry): HTMLElement {
  switch (e.role) {
    case 'user':
      return el('div', { class: 'chat-msg chat-user', 'data-testid': 'chat-message' }, pre(e.text));
    case 'assistant':
      return el(
        'div',
        { class: 'chat-msg chat-assistant', 'data-testid': 'chat-answer', 'data-streaming': e.streaming ? 'true' : undefined },
        e.streaming && e.text === '' ? el('vscode-progress-ring', { 'aria-label': 'Answering' }) : null,
        pre(e.text),
      );
    case 'error':
      return el(
        'div',
        { class: 'chat-msg chat-error run-error', role: 'alert', 'data-testid': 'chat-error' },
        el('div', {}, el('strong', {}, e.error.code), ': ', e.error.message),
      );
  }
}

export function renderChatTranscript(chat: ChatView | null, run: RunView | null): Node[] {
  if (!chat) return [];
  if (chat.problem) return [el('p', { class: 'error', role: 'alert', 'data-testid': 'chat-problem' }, chat.problem)];
  const entries = chatEntries(chat, run);
  if (entries.length === 0)
    return [
      el('p', { class: 'muted' }, `Chat with this flow: your message goes to '${chat.input}', the turns so far to '${chat.history}'.`),
    ];
  return [el('div', { class: 'chat-transcript', 'data-testid': 'chat-transcript', role: 'log' }, ...entries.map(entryBlock))];
}

/** The message box; `draft` is what the user typed so far. */
export function renderChatInput(chat: ChatView | null, draft: string, busy: boolean): Node[] {
  if (!chat || chat.problem) return [];
  const box = el('vscode-text-area', {
    'data-chat-draft': 'true',
    'data-testid': 'chat-input',
    value: draft,
    rows: 3,
    resize: 'vertical',
    placeholder: 'Message (Ctrl+Enter sends)',
  });
  (box as HTMLElement & { value: string }).value = draft;
  return [
    box,
    el(
      'div',
      { class: 'actions' },
      el('vscode-button', { 'data-action': 'chatSend', 'data-testid': 'chat-send', disabled: busy }, 'Send'),
      el('vscode-button', { 'data-action': 'chatClear', 'data-testid': 'chat-clear', appearance: 'secondary', disabled: busy }, 'Clear'),
    ),
  ];
}
