import * as fs from 'fs';
import { FlowSessionError } from '../errors';
import { readFlowEnvironment, resolveFlowDir } from '../flow/environment';
import { listFlowFiles } from '../fs/flowArchive';
import { IMAGE_PATHS, SESSION_USER } from '../image/runtimeFiles';
import { newRunId } from '../runs/runId';
import type { RunOptions, RunRecord, RunService } from '../runs/runService';
import type { RuntimeEvent } from '../runtime/protocol';
import type { SessionManager } from '../session/sessionManager';
import { DebugBridge } from './debugBridge';
import { DapRelay } from './dapRelay';
import { attachArguments, type FlowDebugConfiguration } from './launchConfig';
import { debugPathMappings } from './pathMappings';

/**
 * How long a debug run may take: it sits at breakpoints for as long as the user looks, so the run's usual limit
 * (10 minutes) does not apply; stopping the debug session is what ends it.
 */
export const DEBUG_RUN_TIMEOUT_S = 24 * 3600;

export interface DebugRunOptions extends Pick<RunOptions, 'connections' | 'onProgress'> {
  onEvent?: (e: RuntimeEvent) => void;
}

/** A run under debugpy in its session: the DAP conversation with it, and the run's record once it ends. */
export interface DebugRun {
  runId: string;
  flowDir: string;
  /** the run as a normal run records it (results in the flow's .promptflow folder) */
  record: Promise<RunRecord>;
  /** ends the run (and debugpy with it) */
  cancel(): void;
  /** a bridge between a DAP client and the run's debugpy once it listens; rejects when the run ended before (why) */
  bridge(config: FlowDebugConfiguration): Promise<DebugBridge>;
}

/**
 * Starts a flow's run (or one node's) under debugpy in its session. The session's runtime sends where debugpy
 * listens on the session's loopback; the DAP traffic then goes through an engine exec of the relay, never a port
 * published on the host or a shared disk.
 */
export function startDebugRun(
  runs: RunService,
  manager: SessionManager,
  config: FlowDebugConfiguration,
  options: DebugRunOptions = {},
): DebugRun {
  const flowDir = resolveFlowDir(config.flow);
  const runId = newRunId(flowDir);
  const abort = new AbortController();
  let listening: (port: number) => void = () => undefined;
  const port = new Promise<number>((resolve) => (listening = resolve));
  const record = runs.run(flowDir, {
    runId,
    inputs: config.inputs ?? {},
    connections: options.connections,
    onProgress: options.onProgress,
    signal: abort.signal,
    debug: true,
    timeoutSeconds: DEBUG_RUN_TIMEOUT_S,
    ...(config.node ? { node: config.node } : {}),
    ...(config.variant ? { variant: config.variant } : {}),
    onEvent: (e) => {
      // the port comes from the session, whose code is not trusted: only a port number reaches the relay's argv
      if (e.event === 'debugListening' && isPort(e.port)) listening(e.port);
      options.onEvent?.(e);
    },
  });
  const cancel = () => {
    abort.abort();
    void runs.cancel(runId).catch(() => undefined);
  };
  const adapter = Promise.race([
    port.then((p) =>
      openRelay(manager, flowDir, p).catch((e: unknown) => {
        cancel(); // the run would wait for a debugger that cannot come
        throw e;
      }),
    ),
    record.then((r) => Promise.reject(endedBeforeDebugging(r))),
  ]);
  adapter.catch(() => undefined); // the callers of bridge() hear why; nobody else has to listen
  return {
    runId,
    flowDir,
    record,
    cancel,
    bridge: async (c) => {
      const relay = await adapter;
      const env = readFlowEnvironment(flowDir);
      const files = listFlowFiles(flowDir, env.additionalIncludes);
      const mappings = debugPathMappings(flowDir, fs.realpathSync(flowDir), files, IMAGE_PATHS.flow);
      return new DebugBridge(relay, {
        attachArguments: attachArguments(c, mappings, IMAGE_PATHS.runtime),
        stopRun: cancel,
        runEnded: record.then(outcomeLine, (e: Error) => `The run failed: ${e.message}`),
      });
    },
  };
}

export const isPort = (p: unknown): p is number => Number.isInteger(p) && (p as number) > 0 && (p as number) < 65536;

async function openRelay(manager: SessionManager, flowDir: string, port: number): Promise<DapRelay> {
  const container = (await manager.status(flowDir)).container;
  if (!container)
    throw new FlowSessionError('session-not-running', 'The session stopped before the debugger could attach.', 'Start it and debug again.');
  const exec = await manager.engine.execSession(
    container,
    [IMAGE_PATHS.python, '-u', '-m', 'flowsession_runtime.dap_relay', String(port)],
    {
      user: SESSION_USER,
      // the runtime's folder, not the flow's: a flow file named like a standard module must not shadow the relay's imports
      workingDir: IMAGE_PATHS.runtime,
    },
  );
  return new DapRelay(exec);
}

function endedBeforeDebugging(r: RunRecord): FlowSessionError {
  if (r.error?.code === 'DebuggerUnavailable')
    return new FlowSessionError(
      'debugger-unavailable',
      r.error.message,
      'Point the pip settings (flowsession.pip.indexUrl or findLinks; CLI: FLOWSESSION_PIP_*) at an index that has debugpy, or use a base image that has it, then reset the session so its runtime image is built again.',
    );
  const why = r.error ? `${r.error.code}: ${r.error.message}` : r.status;
  return new FlowSessionError(
    'runtime-crashed',
    `The run ended before the debugger could attach (${why}).`,
    'Fix what the message says and debug again.',
  );
}

/** The line the debug console gets when the run is over. */
export function outcomeLine(r: RunRecord): string {
  if (r.status === 'Completed') return `Run ${r.runId} completed in ${(r.durationMs / 1000).toFixed(1)} s: ${JSON.stringify(r.outputs)}`;
  return `Run ${r.runId} ${r.status === 'Canceled' ? 'was canceled' : 'failed'}${r.error ? `: ${r.error.code}: ${r.error.message}` : ''}`;
}
