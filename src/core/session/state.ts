import type { ProgressReport } from '../docker/progress';

export type SessionState = 'not-created' | 'creating' | 'ready' | 'busy' | 'stopping' | 'stopped' | 'failed' | 'unavailable';
export type CreatingPhase = 'pulling' | 'building' | 'installing' | 'starting';

export interface SessionStatus {
  flowDir: string;
  key: string;
  state: SessionState;
  /** what a creating or busy session is doing */
  phase?: string;
  /** why a session failed or is unavailable */
  reason?: string;
  /** the flow's environment (image, requirements) no longer matches the session's: reset applies it */
  outdated: boolean;
  container?: string;
  containerName?: string;
  /** the image the container runs (environment or runtime image) */
  image?: string;
  env?: string;
  baseImage?: string;
  runtimeVersion?: string;
  /** the engine the session lives on */
  engine: string;
  exitCode?: number;
}

export type SessionProgress = (report: ProgressReport) => void;
