import type { SessionManager } from '../core/session/sessionManager';
import type { SessionStatus } from '../core/session/state';
import { SessionManager as Manager } from '../core/session/sessionManager';
import { CliOutput, EXIT, UsageError } from './output';

function statusDoc(s: SessionStatus) {
  return {
    state: s.state,
    phase: s.phase ?? null,
    reason: s.reason ?? null,
    outdated: s.outdated,
    container: s.container ?? null,
    containerName: s.containerName ?? null,
    image: s.image ?? null,
    env: s.env ?? null,
    baseImage: s.baseImage ?? null,
    flow: s.flowDir,
    engine: s.engine,
  };
}

function statusLine(s: SessionStatus): string {
  const parts = [
    `${s.flowDir}: ${s.state}${s.phase ? ` (${s.phase})` : ''}${s.outdated ? " [outdated: reset to apply the flow's environment]" : ''}`,
  ];
  if (s.containerName) parts.push(`  container ${s.containerName} (${s.container?.slice(0, 12)})`);
  if (s.image) parts.push(`  image ${s.image}`);
  if (s.baseImage) parts.push(`  base ${s.baseImage}`);
  if (s.env) parts.push(`  env ${s.env}`);
  if (s.reason) parts.push(`  ${s.reason}`);
  return parts.join('\n');
}

export const SESSION_SUBCOMMANDS = ['up', 'status', 'start', 'stop', 'restart', 'reset', 'rm', 'install', 'packages'] as const;

/** `flowsession session <sub> <flow-dir> [...]` */
export async function runSessionCommand(
  manager: SessionManager,
  out: CliOutput,
  args: string[],
  flags: { requirements?: boolean },
): Promise<number> {
  const [sub, flowDir, ...rest] = args;
  if (!sub || !(SESSION_SUBCOMMANDS as readonly string[]).includes(sub))
    throw new UsageError(`session needs one of: ${SESSION_SUBCOMMANDS.join(', ')}`);
  if (!flowDir) throw new UsageError(`session ${sub} needs a flow folder`);
  const progress = (r: Parameters<typeof Manager.describeProgress>[0]) => {
    const line = Manager.describeProgress(r);
    if (line) out.progress(line);
  };
  const report = (s: SessionStatus) => {
    out.result(statusDoc(s), statusLine(s));
    return s.state === 'failed' || s.state === 'unavailable' ? EXIT.failed : EXIT.ok;
  };
  switch (sub) {
    case 'up':
      return report(await manager.up(flowDir, progress));
    case 'status':
      return report(await manager.status(flowDir));
    case 'start':
      return report(await manager.start(flowDir, progress));
    case 'stop':
      return report(await manager.stop(flowDir));
    case 'restart':
      return report(await manager.restart(flowDir, progress));
    case 'reset':
      return report(await manager.reset(flowDir, progress));
    case 'rm':
      return report(await manager.remove(flowDir));
    case 'install': {
      if (flags.requirements) {
        if (rest.length) throw new UsageError('give either --requirements or package names, not both');
        const tail = await manager.installRequirements(flowDir, progress);
        out.result({ installed: 'requirements', output: tail }, tail);
      } else {
        if (!rest.length) throw new UsageError('session install needs package names (or --requirements)');
        const tail = await manager.install(flowDir, rest, progress);
        out.result({ installed: rest, output: tail }, tail);
      }
      return EXIT.ok;
    }
    case 'packages': {
      const packages = await manager.packages(flowDir);
      const byHand = packages.filter((p) => p.origin === 'by-hand').length;
      const note = byHand ? `${byHand} package(s) installed by hand disappear when the session is reset.` : '';
      const width = Math.max(4, ...packages.map((p) => p.name.length));
      const lines = packages.map((p) => `${p.name.padEnd(width)}  ${p.version.padEnd(12)}  ${p.origin}`);
      out.result({ packages, note }, [...lines, note].filter(Boolean).join('\n'));
      return EXIT.ok;
    }
  }
  return EXIT.usage;
}
