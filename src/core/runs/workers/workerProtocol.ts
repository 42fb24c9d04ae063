import type { BatchParams, BatchResult, ConnectionSpec, FlowKindFields, FlowRunError, LineEndEvent } from '../../runtime/protocol';

/**
 * The messages between a batch coordinator and its workers (runtime/flowsession_runtime/worker.py), one JSON
 * object per line over TLS. The worker speaks first; nothing but `refused` answers a hello without the token.
 */
export const WORKER_PROTOCOL_VERSION = 1;

/** the largest frame either side reads (a worker's welcome with the flow's files, a line's result); worker.py: MAX_FRAME */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** The environment a worker container gets; the token is the batch's, never a connection secret. */
export const WORKER_ENV = {
  coordinator: 'FLOWSESSION_COORDINATOR',
  fingerprint: 'FLOWSESSION_COORDINATOR_FINGERPRINT',
  token: 'FLOWSESSION_BATCH_TOKEN',
} as const;

/** The worker's argv after the image's Python: the session runtime's worker loop. */
export const WORKER_MODULE = 'flowsession_runtime.worker';

export type WorkerMessage =
  | { type: 'hello'; token: string; worker: string; version: number }
  | { type: 'lease' }
  | { type: 'heartbeat'; leaseId: string }
  /** `line.index` is the line's position in its lease */
  | { type: 'line'; leaseId: string; line: LineEndEvent }
  | { type: 'leaseEnd'; leaseId: string; result?: BatchResult; error?: FlowRunError };

/** What a lease's batch request takes from the coordinator; the worker adds runId, flow and the data path. */
export type LeaseParams = Pick<
  BatchParams,
  'columnMapping' | 'workers' | 'timeoutSeconds' | 'lineTimeoutSeconds' | 'variant' | 'llmTimeoutSeconds'
> &
  FlowKindFields & {
    /** secrets travel here, per lease, to a worker that showed the token: never in a spec, label or log */
    connections: Record<string, ConnectionSpec>;
  };

export type CoordinatorMessage =
  | { type: 'welcome'; flow: Record<string, unknown>; files: { path: string; content: string }[]; workers?: number }
  | { type: 'refused'; message: string }
  | { type: 'lease'; leaseId: string; lines: string[]; params: LeaseParams }
  | { type: 'wait'; ms: number }
  | { type: 'done' }
  | { type: 'cancel'; leaseId: string };
