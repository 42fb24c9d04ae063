import type { SessionState, SessionStatus } from '../core/session/state';

/** How a session state reads in the tree, the status bar and context keys (editor-free). */
export interface StateLook {
  icon: string;
  color?: string;
  text: string;
}

export const STATE_LOOK: Record<SessionState, StateLook> = {
  'not-created': { icon: 'circle-outline', text: 'not created' },
  creating: { icon: 'loading~spin', text: 'creating' },
  ready: { icon: 'vm-running', color: 'charts.green', text: 'ready' },
  busy: { icon: 'sync~spin', text: 'busy' },
  stopping: { icon: 'loading~spin', text: 'stopping' },
  stopped: { icon: 'vm-outline', text: 'stopped' },
  failed: { icon: 'error', color: 'errorForeground', text: 'failed' },
  unavailable: { icon: 'warning', color: 'problemsWarningIcon.foreground', text: 'engine unavailable' },
};

/** "creating: building · outdated" */
export function describeState(s: Pick<SessionStatus, 'state' | 'phase' | 'outdated'>): string {
  let text = STATE_LOOK[s.state].text;
  if (s.phase && (s.state === 'creating' || s.state === 'busy')) text += `: ${s.phase}`;
  if (s.outdated) text += ' · outdated';
  return text;
}

/** The tree row's contextValue: menus match on `state:<state>` and `outdated`. */
export function contextValueOf(s: Pick<SessionStatus, 'state' | 'outdated'>): string {
  return `flowsession.flow state:${s.state}${s.outdated ? ' outdated' : ''}`;
}

export function isRunning(state: SessionState | undefined): boolean {
  return state === 'ready' || state === 'busy';
}

/** Engine events that do not change a session's state (execs of validations and package listings, file copies). */
export function isStateChange(action: string): boolean {
  return !/^(exec_|extract-to-dir|archive-path|attach|resize|top|export|commit|copy|health_status)/.test(action);
}
