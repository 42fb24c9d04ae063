import { spawnSync } from 'child_process';
import type { DockerEngine } from '../../../src/core/docker/dockerEngine';
import Docker from 'dockerode';

/**
 * A second dockerd started with --bridge=none deletes the docker0 interface at start-up, which the main
 * engine still uses (for builds and bridge-networked containers). The test engines call this after they
 * start, to put the main engine's bridge back as it was (same name and gateway address).
 */
export async function restoreDefaultBridge(main: DockerEngine): Promise<void> {
  if (spawnSync('ip', ['link', 'show', 'docker0'], { stdio: 'ignore' }).status === 0) return;
  const network = await new Docker(main.endpoint.options).getNetwork('bridge').inspect();
  const config = (network.IPAM?.Config ?? [])[0] as { Subnet?: string; Gateway?: string } | undefined;
  const prefix = config?.Subnet?.split('/')[1] ?? '16';
  const gateway = config?.Gateway ?? (config?.Subnet ? config.Subnet.replace(/\.0\/\d+$/, '.1') : '172.17.0.1');
  for (const argv of [
    ['link', 'add', 'docker0', 'type', 'bridge'],
    ['addr', 'add', `${gateway}/${prefix}`, 'dev', 'docker0'],
    ['link', 'set', 'docker0', 'up'],
  ]) {
    const r = spawnSync('ip', argv, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${argv.join(' ')} failed: ${r.stderr.trim()}`);
  }
}
