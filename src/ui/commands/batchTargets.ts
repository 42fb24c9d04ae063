import * as vscode from 'vscode';
import { engineName, listContexts } from '../../core/docker/endpoint';
import type { Ctx } from '../ctx';

/** Where "Run Batch…" runs the lines. */
export type BatchTarget =
  | { kind: 'session' }
  | { kind: 'engines'; engines: string[] }
  | { kind: 'swarm'; replicas: number; registry: string; coordinatorHost: string }
  | { kind: 'containers'; replicas: number; coordinatorHost: string };

interface TargetItem extends vscode.QuickPickItem {
  target: BatchTarget['kind'];
}

const ADDRESS = /^(tcp|ssh|unix|npipe):\/\/\S+$/;

async function pickEngines(ctx: Ctx): Promise<string[] | undefined> {
  const current = ctx.loadedServices()?.engine.endpoint;
  const items = [
    { label: 'default', description: 'the local engine' },
    ...listContexts()
      .filter((c) => c.name !== 'default')
      .map((c) => ({ label: c.name, description: c.host })),
  ].map((i) => ({ ...i, picked: !!current && (current.context ?? 'default') === i.label }));
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Run the batch on which engines? (Docker contexts)',
    canPickMany: true,
    placeHolder: 'two or more; more engines by address in the next step',
  });
  if (!picked) return undefined;
  const more = await vscode.window.showInputBox({
    title: 'More engines by address (optional)',
    prompt: 'comma-separated: tcp://host:2376, ssh://user@host',
    validateInput: (v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => ADDRESS.test(s))
        ? undefined
        : 'Use tcp://host:port, ssh://user@host or unix:///path',
  });
  if (more === undefined) return undefined;
  const engines = [
    ...picked.map((p) => p.label),
    ...more
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
  if (engines.length === 0) return undefined;
  return [...new Set(engines)];
}

async function askReplicas(title: string): Promise<number | undefined> {
  const replicas = await vscode.window.showInputBox({
    title,
    value: '3',
    validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 1000 ? undefined : 'A whole number from 1 to 1000'),
  });
  return replicas === undefined ? undefined : Number(replicas);
}

/** The address the workers dial; undefined when the user backs out. */
async function askCoordinatorHost(where: string): Promise<string | undefined> {
  const host = await vscode.window.showInputBox({
    title: `The address ${where} reach this machine at`,
    value: '127.0.0.1',
    prompt: 'The workers connect out to this window over TLS; 127.0.0.1 works for workers on this machine only',
    validateInput: (v) => (/^[\w.:[\]-]+$/.test(v.trim()) ? undefined : 'A host name or IP address'),
  });
  return host?.trim();
}

async function pickSwarm(ctx: Ctx): Promise<BatchTarget | undefined> {
  const replicas = await askReplicas('Workers (swarm service replicas)');
  if (replicas === undefined) return undefined;
  const coordinatorHost = await askCoordinatorHost('the swarm nodes');
  if (coordinatorHost === undefined) return undefined;
  return { kind: 'swarm', replicas, registry: ctx.settings.registry, coordinatorHost };
}

/** Worker containers on the current engine: on a local engine they share this machine's network, so nothing more is asked. */
async function pickContainers(ctx: Ctx): Promise<BatchTarget | undefined> {
  const replicas = await askReplicas('Workers (containers on this engine)');
  if (replicas === undefined) return undefined;
  const host = ctx.loadedServices()?.engine.endpoint.host ?? '';
  const local = !host || /^(unix|npipe):/.test(host);
  const coordinatorHost = local ? '127.0.0.1' : await askCoordinatorHost("the engine's containers");
  return coordinatorHost === undefined ? undefined : { kind: 'containers', replicas, coordinatorHost };
}

/**
 * Asks where to run a batch: this session (default), several engines, the swarm the current engine manages, or
 * worker containers on the current engine (the swarm's workers without a swarm).
 */
export async function pickBatchTarget(ctx: Ctx): Promise<BatchTarget | undefined> {
  const endpoint = ctx.loadedServices()?.engine.endpoint;
  const here = endpoint ? engineName(endpoint) : 'the current engine';
  const items: TargetItem[] = [
    { target: 'session', label: 'This session', description: `the flow's session on ${here}` },
    { target: 'engines', label: 'Several engines…', description: 'a session on each engine; lines shared out, results merged' },
    {
      target: 'swarm',
      label: 'Docker Swarm…',
      description: `workers as a swarm service of ${here} (a manager)`,
      detail: ctx.settings.registry ? `image pushed to ${ctx.settings.registry}` : 'single-node swarm unless flowsession.registry is set',
    },
    {
      target: 'containers',
      label: 'Worker containers…',
      description: `workers as containers on ${here}, dialing this window over TLS`,
    },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Run the batch where?' });
  if (!pick) return undefined;
  if (pick.target === 'session') return { kind: 'session' };
  if (pick.target === 'engines') {
    const engines = await pickEngines(ctx);
    return engines ? { kind: 'engines', engines } : undefined;
  }
  return pick.target === 'containers' ? pickContainers(ctx) : pickSwarm(ctx);
}
