/**
 * A real multi-node Docker Swarm for the tests, apart from the main engine: each node is a dockerd of its own in a
 * network namespace the test makes, wired to a bridge of the test's own (so no dockerd here touches the main
 * engine's docker0, and the main engine never enters swarm mode). Node 1 is the manager; the others join it over
 * the bridge. Images reach the nodes through the loopback registry of the test world, relayed onto the bridge
 * address (the nodes trust that address as an insecure registry). Everything goes at stop(): the swarm state,
 * the dockerds and what runs in their namespaces, the namespaces, the bridge and its one forwarding rule.
 */
import { spawn, spawnSync } from 'child_process';
import Docker from 'dockerode';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { modemOptions, resolveEndpoint } from '../../../src/core/docker/endpoint';
import { DockerEngine } from '../../../src/core/docker/dockerEngine';
import { waitUntil } from '../waiting';
import { BASE_IMAGE } from './baseImages';
import { isRoot, mkdirp, onPath } from './machine';
import { copyImage, unmountUnder } from './secondEngine';

const SUBNET = '10.213.7';
const BRIDGE = 'fsswarm0';
const DATA_ROOT = '/var/lib/flowsession-test-swarm';

export interface SwarmNode {
  name: string;
  netns: string;
  address: string;
  /** unix:///… socket of its dockerd */
  host: string;
  engine: DockerEngine;
  logFile: string;
}

export interface TestSwarm {
  nodes: SwarmNode[];
  manager: SwarmNode;
  /** the bridge address of this machine: what the nodes reach it at */
  hostAddress: string;
  /** the world's registry as the nodes reach it (host:port on the bridge) */
  registry: string;
  /** ends every process of a node's namespace at once (dockerd, containerd, its containers): a node lost */
  killNode(node: SwarmNode): void;
  stop(): Promise<void>;
}

/** `flowsession batch … --on swarm` against this swarm: the image through its registry, the coordinator on its bridge. */
export function swarmBatchArgs(swarm: TestSwarm, flow: string, data: string, replicas: number, workers: number): string[] {
  return [
    'batch',
    flow,
    '--data',
    data,
    '--on',
    'swarm',
    '--replicas',
    String(replicas),
    '--workers',
    String(workers),
    '--registry',
    swarm.registry,
    '--coordinator-host',
    swarm.hostAddress,
    '--listen',
    swarm.hostAddress,
    '--json',
  ];
}

function run(cmd: string, args: string[], ignoreFailure = false): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0 && !ignoreFailure) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function netnsPids(netns: string): number[] {
  return run('ip', ['netns', 'pids', netns], true)
    .split('\n')
    .map(Number)
    .filter((n) => n > 0);
}

/** A relay from the bridge address to the world's registry on loopback (the nodes cannot reach this loopback). */
function relay(listenHost: string, target: string): Promise<net.Server> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listenHost, () => resolve(server));
  });
}

/** Builds a swarm of `count` nodes (root only); the manager gets the test base image. */
export async function startSwarm(
  runDir: string,
  count: number,
  first: DockerEngine,
  registry: string,
  log: (l: string) => void,
): Promise<TestSwarm> {
  if (!isRoot()) throw new Error('The swarm tests start dockerds in network namespaces and need root.');
  for (const b of ['dockerd', 'ip', 'nsenter', 'iptables']) if (!onPath(b)) throw new Error(`The swarm tests need ${b} on PATH.`);
  const tag = `fsw${process.pid % 10000}`;
  const shortDir = mkdirp(`/run/${tag}`);
  const hostAddress = `${SUBNET}.1`;
  const nodes: SwarmNode[] = [];
  const children: number[] = [];
  let relayServer: net.Server | undefined;
  const rule = ['FORWARD', '-i', BRIDGE, '-o', BRIDGE, '-j', 'ACCEPT'];

  const stop = async () => {
    for (const n of nodes) for (const pid of netnsPids(n.netns)) spawnSync('kill', ['-9', String(pid)]);
    await waitUntil('the swarm nodes to end', 20_000, () => nodes.every((n) => netnsPids(n.netns).length === 0)).catch(() => undefined);
    unmountUnder([shortDir, DATA_ROOT]);
    for (const n of nodes) {
      run('ip', ['netns', 'del', n.netns], true);
      // a node's swarm membership dies with this swarm: the next run starts clean
      fs.rmSync(path.join(DATA_ROOT, n.name, 'swarm'), { recursive: true, force: true });
    }
    run('ip', ['link', 'del', BRIDGE], true);
    run('iptables', ['-D', ...rule], true);
    relayServer?.close();
    fs.rmSync(shortDir, { recursive: true, force: true });
  };

  try {
    run('ip', ['link', 'del', BRIDGE], true); // left by an interrupted run
    run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${hostAddress}/24`, 'dev', BRIDGE]);
    run('ip', ['link', 'set', BRIDGE, 'up']);
    // the main engine sets FORWARD to DROP and bridged traffic passes iptables: let our bridge's own traffic through
    run('iptables', ['-I', ...rule]);
    relayServer = await relay(hostAddress, registry);
    const registryOnBridge = `${hostAddress}:${(relayServer.address() as net.AddressInfo).port}`;

    for (let i = 1; i <= count; i++) {
      const name = `n${i}`;
      const netns = `${tag}${name}`;
      const address = `${SUBNET}.${i + 1}`;
      run('ip', ['netns', 'del', netns], true);
      run('ip', ['netns', 'add', netns]);
      run('ip', ['link', 'add', `${netns}v`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
      run('ip', ['link', 'set', `${netns}v`, 'master', BRIDGE, 'up']);
      run('ip', ['netns', 'exec', netns, 'ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      run('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'eth0', 'up']);
      run('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
      const dir = mkdirp(path.join(shortDir, name));
      const dataRoot = mkdirp(path.join(DATA_ROOT, name));
      fs.rmSync(path.join(dataRoot, 'swarm'), { recursive: true, force: true });
      const socket = path.join(dir, 'd.sock');
      const logFile = path.join(runDir, `swarm-${name}.log`);
      const out = fs.openSync(logFile, 'a');
      // nsenter, not `ip netns exec`: that remounts /sys and hides the cgroup mounts dockerd needs
      const child = spawn(
        'nsenter',
        [
          `--net=/run/netns/${netns}`,
          'dockerd',
          '--data-root',
          dataRoot,
          '--exec-root',
          path.join(dir, 'x'),
          '--pidfile',
          path.join(dir, 'd.pid'),
          '-H',
          `unix://${socket}`,
          '--bridge=none',
          '--iptables=false',
          '--ip-masq=false',
          '--insecure-registry',
          `${SUBNET}.0/24`,
          '--log-level',
          'warn',
        ],
        { detached: true, stdio: ['ignore', out, out] },
      );
      child.unref();
      fs.closeSync(out);
      if (child.pid) children.push(child.pid);
      const host = `unix://${socket}`;
      const engine = new DockerEngine(resolveEndpoint({ env: { DOCKER_HOST: host }, homeDir: dir }));
      nodes.push({ name, netns, address, host, engine, logFile });
      await waitUntil(`swarm node ${name} to answer`, 60_000, () => engine.ping(2000)).catch((e) => {
        throw new Error(`${(e as Error).message}: ${fs.readFileSync(logFile, 'utf8').slice(-1500)}`);
      });
    }
    const [manager, ...workers] = nodes;
    const managerApi = new Docker(modemOptions(manager.engine.endpoint.options));
    await managerApi.swarmInit({ ListenAddr: `${manager.address}:2377`, AdvertiseAddr: `${manager.address}:2377`, ForceNewCluster: false });
    const joinToken = ((await managerApi.swarmInspect()) as { JoinTokens: { Worker: string } }).JoinTokens.Worker;
    await Promise.all(
      workers.map((w) =>
        new Docker(modemOptions(w.engine.endpoint.options)).swarmJoin({
          ListenAddr: `${w.address}:2377`,
          AdvertiseAddr: `${w.address}:2377`,
          RemoteAddrs: [`${manager.address}:2377`],
          JoinToken: joinToken,
        }),
      ),
    );
    await waitUntil(`${count} swarm nodes to be ready`, 60_000, async () => {
      const list = (await managerApi.listNodes()) as { Status?: { State?: string } }[];
      return list.filter((n) => n.Status?.State === 'ready').length === count;
    });
    log(`copying ${BASE_IMAGE} into the swarm manager…`);
    await copyImage(first, manager.engine, BASE_IMAGE);
    log(`swarm of ${count} nodes up: manager ${manager.host} (${manager.address}), registry ${registryOnBridge}`);
    return {
      nodes,
      manager,
      hostAddress,
      registry: registryOnBridge,
      killNode: (node) => {
        for (const pid of netnsPids(node.netns)) spawnSync('kill', ['-9', String(pid)]);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
