import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { FlowSessionError } from '../../errors';
import { IMAGE_PATHS } from '../../image/runtimeFiles';
import type { WorkerLauncher, WorkerSpec } from './workerBatch';
import { WORKER_LABELS, WORKER_ROLE, workerArgv } from './workerCommand';
import { WORKER_ENV } from './workerProtocol';
import { serviceName } from './swarmWorkers';

/** the session user's uid and gid in every flowsession image */
const SESSION_UID = 10001;

/** A Kubernetes label value (at most 63 characters, alphanumeric at both ends) that names the batch. */
export function batchLabelValue(runId: string): string {
  const clean = runId.replace(/[^A-Za-z0-9_.-]/g, '-');
  const v = clean.length <= 63 ? clean : `${clean.slice(0, 54)}-${crypto.createHash('sha256').update(runId).digest('hex').slice(0, 8)}`;
  return v.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '') || 'batch';
}

export interface KubernetesOptions {
  namespace?: string;
  /** run `kubectl apply -f` on the manifests (and `kubectl delete` by label at the end) */
  apply: boolean;
  /** where the manifests are written */
  file: string;
  /** the kubectl to run; default `kubectl` on PATH */
  kubectl?: string;
  log?: (line: string) => void;
}

/**
 * The manifests of a batch's workers: a Secret with the batch token and an Indexed Job of N pods with the
 * `restricted` Pod Security settings, the coordinator's address and fingerprint in the pod spec.
 */
export function workerManifests(spec: WorkerSpec, namespace?: string): Record<string, unknown>[] {
  const name = serviceName(spec.runId);
  const labels = { [WORKER_LABELS.batch]: batchLabelValue(spec.runId), [WORKER_LABELS.role]: WORKER_ROLE };
  const metadata = (n: string) => ({ name: n, ...(namespace ? { namespace } : {}), labels });
  const { entrypoint, cmd } = workerArgv(spec);
  const resources: Record<string, string> = {};
  if (spec.cpus && spec.cpus > 0) resources.cpu = String(spec.cpus);
  if (spec.memoryMb && spec.memoryMb > 0) resources.memory = `${Math.round(spec.memoryMb)}Mi`;
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(`${name}-token`),
    type: 'Opaque',
    stringData: { token: spec.token },
  };
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(name),
    spec: {
      completionMode: 'Indexed',
      completions: spec.replicas,
      parallelism: spec.replicas,
      // a pod lost with its node is replaced; a worker that keeps failing is not retried forever
      backoffLimit: spec.replicas * 3,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'OnFailure',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: SESSION_UID,
            runAsGroup: SESSION_UID,
            fsGroup: SESSION_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'worker',
              image: spec.image,
              command: entrypoint,
              args: cmd,
              workingDir: IMAGE_PATHS.flow,
              env: [
                { name: WORKER_ENV.token, valueFrom: { secretKeyRef: { name: `${name}-token`, key: 'token' } } },
                { name: 'FLOWSESSION_WORKER_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ],
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                runAsNonRoot: true,
                seccompProfile: { type: 'RuntimeDefault' },
              },
              ...(Object.keys(resources).length ? { resources: { limits: resources, requests: resources } } : {}),
            },
          ],
        },
      },
    },
  };
  return [secret, job];
}

/** The manifests as one YAML stream. */
export function manifestsYaml(objects: Record<string, unknown>[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

/** Runs kubectl with argv (no shell); rejects with its stderr when it fails. */
export function runKubectl(kubectl: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) =>
      reject(
        new FlowSessionError(
          'bad-input',
          `${kubectl} could not be started: ${e.message}`,
          'Install kubectl, or drop --apply and apply the manifests yourself.',
        ),
      ),
    );
    child.on('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(
            new FlowSessionError(
              'bad-input',
              `${kubectl} ${args[0]} failed: ${err.trim().slice(-500)}`,
              'Check the kube context and your rights in the namespace.',
            ),
          ),
    );
  });
}

/**
 * The workers as a Kubernetes Indexed Job: the manifests are written to a file and, with `apply`, applied with
 * kubectl (and deleted by label when the batch ends). Without it the coordinator waits for the user to apply them.
 */
export class KubernetesWorkers implements WorkerLauncher {
  readonly kind = 'kubernetes';
  private applied: string | undefined;

  constructor(private readonly options: KubernetesOptions) {}

  async start(spec: WorkerSpec): Promise<void> {
    fs.mkdirSync(path.dirname(this.options.file), { recursive: true });
    // the token is in the file: readable by its owner only
    fs.writeFileSync(this.options.file, manifestsYaml(workerManifests(spec, this.options.namespace)), { mode: 0o600 });
    if (!this.options.apply) {
      this.options.log?.(`wrote ${this.options.file}; apply it with: kubectl apply -f ${this.options.file}`);
      return;
    }
    await runKubectl(this.kubectl, ['apply', '-f', this.options.file, ...this.namespaceArgs()]);
    this.applied = batchLabelValue(spec.runId);
  }

  async stop(): Promise<void> {
    if (!this.applied) return;
    const selector = `${WORKER_LABELS.batch}=${this.applied}`;
    this.applied = undefined;
    await runKubectl(this.kubectl, [
      'delete',
      'job,secret',
      '-l',
      selector,
      '--ignore-not-found',
      '--wait=false',
      ...this.namespaceArgs(),
    ]).catch((e) => this.options.log?.(`removing the batch's Job failed: ${(e as Error).message}`));
  }

  private get kubectl(): string {
    return this.options.kubectl ?? 'kubectl';
  }

  private namespaceArgs(): string[] {
    return this.options.namespace ? ['--namespace', this.options.namespace] : [];
  }
}
