import * as assert from 'assert';
import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { makeBatchCertificate } from '../../../../../src/core/runs/workers/batchCertificate';
import { WorkerCoordinator } from '../../../../../src/core/runs/workers/workerCoordinator';
import { BatchOutput } from '../../../../../src/core/runs/runStore';

const RUNTIME = path.resolve(__dirname, '..', '..', '..', '..', '..', 'runtime');

/** The runtime's worker loop on this machine's Python (stdlib only), as a container would run it. */
function runWorker(address: string, fingerprint: string, token: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'python3',
      [
        '-m',
        'flowsession_runtime.worker',
        '--coordinator',
        address,
        '--fingerprint',
        fingerprint,
        '--flow-dir',
        fs.mkdtempSync(path.join(os.tmpdir(), 'fs-worker-')),
        '--give-up-seconds',
        '5',
      ],
      { env: { ...process.env, PYTHONPATH: RUNTIME, FLOWSESSION_BATCH_TOKEN: token }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('batch worker handshake (runtime worker loop against a TLS coordinator)', function () {
  this.timeout(20_000);

  it('makes a self-signed certificate that verifies and whose fingerprint is its DER SHA-256', () => {
    const c = makeBatchCertificate();
    const x = new crypto.X509Certificate(c.certPem);
    assert.ok(x.verify(x.publicKey));
    assert.strictEqual(x.fingerprint256.replace(/:/g, '').toLowerCase(), c.fingerprint);
    assert.ok(new Date(x.validTo).getTime() > Date.now());
  });

  it('a worker sends nothing (no token) to a coordinator whose certificate is not the pinned one', async () => {
    const real = makeBatchCertificate();
    const impostor = makeBatchCertificate();
    let received = '';
    const server = tls.createServer({ key: impostor.keyPem, cert: impostor.certPem }, (s) => {
      s.on('data', (d: Buffer) => (received += d.toString()));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const r = await runWorker(`127.0.0.1:${port}`, real.fingerprint, 'the-batch-token');
      assert.strictEqual(r.code, 2, r.stderr);
      assert.match(r.stderr, /fingerprint mismatch/);
      assert.strictEqual(received, '');
    } finally {
      server.close();
    }
  });

  it('a worker without the batch token is refused and gets no flow, no lines', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-coord-'));
    const certificate = makeBatchCertificate();
    const events: string[] = [];
    const coordinator = new WorkerCoordinator(
      {
        runId: 'r1',
        flow: { nodes: [] },
        files: [{ path: 'secret_prompt.jinja2', content: Buffer.from('TOP SECRET PROMPT').toString('base64') }],
        lines: ['{"x": 1}'],
        output: new BatchOutput(dir, 'r1'),
        certificate,
        token: 'the-real-token',
        params: { connections: {} },
        expectedWorkers: 1,
      },
      { onWorker: (e) => events.push(e.kind) },
    );
    const port = await coordinator.listen();
    const ac = new AbortController();
    const running = coordinator.run(ac.signal);
    try {
      const r = await runWorker(`127.0.0.1:${port}`, certificate.fingerprint, 'a-guess');
      assert.strictEqual(r.code, 2, r.stderr);
      assert.match(r.stderr, /does not know this worker/);
      assert.ok(!r.stderr.includes('TOP SECRET'));
      assert.strictEqual(coordinator.refusedConnections, 1);
      assert.deepStrictEqual(events, ['refused']);
      assert.strictEqual(coordinator.shares.size, 0);
    } finally {
      ac.abort();
      const outcome = await running;
      assert.strictEqual(outcome.total, 0);
      assert.strictEqual(outcome.error?.code, 'Cancelled');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
