import { FlowSessionError } from '../errors';
import type { PathMapping } from './pathMappings';

/** The `flowsession` debug type's launch configuration, as a user writes it in launch.json or a command makes it. */
export interface FlowDebugConfiguration {
  type: 'flowsession';
  request: 'launch';
  name: string;
  /** the flow folder (or its flow.dag.yaml) */
  flow: string;
  /** flow inputs; the flow's defaults for those not given */
  inputs?: Record<string, unknown>;
  /** debug this node alone, as `run --node` runs it (its inputs from `inputs`, the defaults and the latest run) */
  node?: string;
  /** e.g. '${summarize.variant_1}' */
  variant?: string;
  /** step only through the flow's own code (default true) */
  justMyCode?: boolean;
}

/** Checks a launch configuration from launch.json (untrusted shape) and returns it typed; bad-input names the field. */
export function checkLaunchConfiguration(config: Record<string, unknown>): FlowDebugConfiguration {
  const bad = (field: string, want: string) =>
    new FlowSessionError('bad-input', `The flowsession debug configuration's "${field}" must be ${want}.`, 'Fix it in launch.json.');
  if (typeof config.flow !== 'string' || !config.flow.trim()) throw bad('flow', 'the path of a flow folder');
  if (config.inputs !== undefined && (typeof config.inputs !== 'object' || config.inputs === null || Array.isArray(config.inputs)))
    throw bad('inputs', 'an object of input names and values');
  for (const key of ['node', 'variant'] as const)
    if (config[key] !== undefined && (typeof config[key] !== 'string' || !config[key])) throw bad(key, 'a non-empty string');
  if (config.justMyCode !== undefined && typeof config.justMyCode !== 'boolean') throw bad('justMyCode', 'true or false');
  return {
    type: 'flowsession',
    request: 'launch',
    name: typeof config.name === 'string' && config.name ? config.name : 'Debug Flow',
    flow: config.flow,
    ...(config.inputs ? { inputs: config.inputs as Record<string, unknown> } : {}),
    ...(config.node ? { node: config.node as string } : {}),
    ...(config.variant ? { variant: config.variant as string } : {}),
    ...(config.justMyCode !== undefined ? { justMyCode: config.justMyCode as boolean } : {}),
  };
}

/**
 * What debugpy's adapter is asked to `attach` with, for a launch of the flowsession type: the run is already
 * waiting in the session, so VS Code's `launch` becomes debugpy's `attach`. The runtime's own modules are never
 * stepped into, whatever justMyCode says (they are not the user's code and have no local copy).
 */
export function attachArguments(config: FlowDebugConfiguration, pathMappings: PathMapping[], runtimeDir: string): Record<string, unknown> {
  return {
    name: config.name,
    type: 'python',
    request: 'attach',
    justMyCode: config.justMyCode ?? true,
    pathMappings,
    // a tool that starts python processes is not followed into them: the run's child is the one debuggee
    subProcess: false,
    redirectOutput: true,
    showReturnValue: true,
    rules: [{ path: `${runtimeDir}/**`, include: false }],
  };
}
