import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { batchLabelValue, KubernetesWorkers, manifestsYaml, workerManifests } from '../../../../../src/core/runs/workers/kubernetesWorkers';
import type { WorkerSpec } from '../../../../../src/core/runs/workers/workerBatch';

/** kubernetes-models ships validators generated from the Kubernetes OpenAPI schema; it is ESM only. */
type Model = new (data: unknown) => { validate(): void };
// a real dynamic import (ts-node compiles `import()` to require, which cannot load an ESM-only package)
const importEsm = new Function('m', 'return import(m)') as (m: string) => Promise<Record<string, Model>>;

const SPEC: WorkerSpec = {
  runId: 'web_classification_batch_20261203_112233_a1b2c3_with_a_long_tail_name',
  image: '127.0.0.1:5000/flowsession-env:3f2a',
  coordinator: '10.0.0.5:41234',
  fingerprint: 'ab'.repeat(32),
  token: 'per-batch-token-value',
  replicas: 6,
  cpus: 1,
  memoryMb: 1024,
};

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function parsed(): Obj[] {
  return parseAllDocuments(manifestsYaml(workerManifests(SPEC, 'flows'))).map((d) => d.toJSON() as Obj);
}

describe('Kubernetes manifests of batch workers', () => {
  it('validate against the Kubernetes OpenAPI schema (Secret, Indexed Job), offline', async () => {
    const [secret, job] = parsed();
    const { Secret } = await importEsm('kubernetes-models/v1/Secret');
    const { Job } = await importEsm('kubernetes-models/batch/v1/Job');
    new Secret(secret).validate();
    new Job(job).validate();
    // the validator is real: a wrong type in the same manifest is refused
    assert.throws(() => new Job({ ...job, spec: { ...job.spec, completions: 'six' } }).validate(), /completions must be integer/);
  });

  it('is an Indexed Job of N workers with the restricted Pod Security settings', () => {
    const [, job] = parsed();
    assert.strictEqual(job.spec.completionMode, 'Indexed');
    assert.strictEqual(job.spec.completions, 6);
    assert.strictEqual(job.spec.parallelism, 6);
    const pod = job.spec.template.spec;
    assert.strictEqual(pod.automountServiceAccountToken, false);
    assert.strictEqual(pod.securityContext.runAsNonRoot, true);
    assert.strictEqual(pod.securityContext.runAsUser, 10001);
    assert.deepStrictEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.ok(!pod.hostNetwork && !pod.hostPID && !pod.hostIPC && !pod.volumes);
    const [c] = pod.containers;
    assert.strictEqual(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepStrictEqual(c.securityContext.capabilities, { drop: ['ALL'] });
    assert.strictEqual(c.securityContext.runAsNonRoot, true);
    assert.ok(!c.securityContext.privileged);
    assert.deepStrictEqual(c.resources.limits, { cpu: '1', memory: '1024Mi' });
  });

  it('puts the token in a Secret, and the coordinator address and fingerprint in the pod spec', () => {
    const [secret, job] = parsed();
    assert.strictEqual(secret.kind, 'Secret');
    assert.deepStrictEqual(secret.stringData, { token: SPEC.token });
    const c = job.spec.template.spec.containers[0];
    assert.strictEqual(c.image, SPEC.image);
    assert.deepStrictEqual(c.command, ['/opt/flowsession/venv/bin/python', '-u', '-m', 'flowsession_runtime.worker']);
    assert.deepStrictEqual(c.args.slice(0, 4), ['--coordinator', SPEC.coordinator, '--fingerprint', SPEC.fingerprint]);
    const tokenEnv = c.env.find((e: Obj) => e.name === 'FLOWSESSION_BATCH_TOKEN');
    assert.deepStrictEqual(tokenEnv.valueFrom.secretKeyRef, { name: secret.metadata.name, key: 'token' });
    // the token appears in the Secret only
    assert.ok(!JSON.stringify(job).includes(SPEC.token));
  });

  it('labels both objects with a valid label value for the batch, for deletion by label', () => {
    const [secret, job] = parsed();
    const v = batchLabelValue(SPEC.runId);
    assert.ok(v.length <= 63 && /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/.test(v), v);
    for (const o of [secret, job, job.spec.template]) assert.strictEqual(o.metadata.labels['flowsession.batch'], v);
    assert.ok(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(job.metadata.name) && job.metadata.name.length <= 63, job.metadata.name);
    assert.strictEqual(job.metadata.namespace, 'flows');
    assert.strictEqual(batchLabelValue('short_run'), 'short_run');
  });
});

describe('KubernetesWorkers --apply', () => {
  it('runs kubectl apply -f on the written manifests and deletes by the batch label at the end (argv, no shell)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-kubectl-'));
    const calls = path.join(dir, 'calls.jsonl');
    // a kubectl that records its argv; no cluster is reachable from these machines
    const kubectl = path.join(dir, 'kubectl');
    fs.writeFileSync(
      kubectl,
      `#!/usr/bin/env python3\nimport json, sys\nopen(${JSON.stringify(calls)}, "a").write(json.dumps(sys.argv[1:]) + "\\n")\n`,
      { mode: 0o755 },
    );
    const file = path.join(dir, 'out', 'kubernetes.yaml');
    const workers = new KubernetesWorkers({ apply: true, file, namespace: 'flows; rm -rf /', kubectl });
    await workers.start(SPEC);
    await workers.stop();
    const argv = fs
      .readFileSync(calls, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    assert.deepStrictEqual(argv, [
      ['apply', '-f', file, '--namespace', 'flows; rm -rf /'],
      [
        'delete',
        'job,secret',
        '-l',
        `flowsession.batch=${batchLabelValue(SPEC.runId)}`,
        '--ignore-not-found',
        '--wait=false',
        '--namespace',
        'flows; rm -rf /',
      ],
    ]);
    assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('without --apply only writes the manifests', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-kubectl-'));
    const file = path.join(dir, 'k.yaml');
    const lines: string[] = [];
    const workers = new KubernetesWorkers({ apply: false, file, kubectl: path.join(dir, 'no-such-kubectl'), log: (l) => lines.push(l) });
    await workers.start(SPEC);
    await workers.stop();
    assert.strictEqual(parseAllDocuments(fs.readFileSync(file, 'utf8')).length, 2);
    assert.match(lines.join('\n'), /kubectl apply -f/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
