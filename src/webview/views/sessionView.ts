/// <reference lib="dom" />
/** The session block: state with live progress, images, environment hash, the outdated notice. */
import { el, pre } from '../dom';
import type { ProgressView, SessionView } from '../../shared/protocol';

const STATE_LABEL: Record<SessionView['state'], string> = {
  'not-created': 'Not created',
  creating: 'Creating',
  ready: 'Ready',
  busy: 'Busy',
  stopping: 'Stopping',
  stopped: 'Stopped',
  failed: 'Failed',
  unavailable: 'Engine unavailable',
};

/** progress lines shown; the state keeps more for when the panel is reopened */
const SHOWN_LOG_LINES = 30;

function detail(label: string, value: string | undefined): HTMLElement | null {
  if (!value) return null;
  return el('div', { class: 'detail' }, el('span', { class: 'detail-label' }, label), el('code', { class: 'detail-value' }, value));
}

function progressBlock(p: ProgressView): HTMLElement {
  const head = [p.phase, p.message].filter(Boolean).join(': ');
  return el(
    'div',
    { class: 'progress', 'data-testid': 'progress' },
    el(
      'div',
      { class: 'progress-head' },
      el('vscode-progress-ring', { 'aria-label': 'Working' }),
      el('span', { class: 'progress-text' }, head || 'Working…'),
      p.percent !== undefined ? el('span', { class: 'progress-percent' }, `${Math.round(p.percent)}%`) : null,
    ),
    p.percent !== undefined ? el('progress', { max: 100, value: Math.max(0, Math.min(100, p.percent)) }) : null,
    p.log.length ? pre(p.log.slice(-SHOWN_LOG_LINES).join('\n'), { class: 'progress-log' }) : null,
  );
}

export function renderSession(session: SessionView | null, progress: ProgressView | null): Node[] {
  if (!session) return [el('p', { class: 'muted' }, 'Reading the session…')];
  const working = session.state === 'creating' || session.state === 'busy' || session.state === 'stopping';
  const canStart = session.state === 'not-created' || session.state === 'stopped' || session.state === 'failed';
  const exists = session.state !== 'not-created' && session.state !== 'unavailable' && session.state !== 'failed';
  const stateLine = el(
    'div',
    { class: 'state-line' },
    el('span', { class: `state state-${session.state}`, 'data-testid': 'session-state' }, STATE_LABEL[session.state] ?? session.state),
    session.phase ? el('span', { class: 'phase' }, session.phase) : null,
    working && !progress ? el('vscode-progress-ring', { 'aria-label': 'Working' }) : null,
    el(
      'span',
      { class: 'actions' },
      canStart ? el('vscode-button', { 'data-action': 'startSession' }, session.state === 'not-created' ? 'Start session' : 'Start') : null,
      exists ? el('vscode-button', { 'data-action': 'resetSession', appearance: 'secondary', disabled: working }, 'Reset') : null,
    ),
  );
  return [
    stateLine,
    session.reason ? el('p', { class: 'reason', role: 'alert' }, session.reason) : null,
    session.outdated
      ? el(
          'div',
          { class: 'outdated', role: 'status', 'data-testid': 'outdated' },
          el(
            'span',
            {},
            "Outdated: the flow's environment (environment.image or requirements) changed since this session was made. Reset applies it; packages installed by hand are removed.",
          ),
          el('vscode-button', { 'data-action': 'resetSession', disabled: working }, 'Reset'),
        )
      : null,
    progress ? progressBlock(progress) : null,
    el(
      'div',
      { class: 'details' },
      detail('Base image', session.baseImage),
      detail('Session image', session.image),
      detail('Environment', session.env),
      detail('Runtime', session.runtimeVersion),
      detail('Container', session.containerName),
      detail('Engine', session.engine),
    ),
  ].filter((n): n is HTMLElement => n !== null);
}
