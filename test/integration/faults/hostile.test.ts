/**
 * Hostile input: each is rejected or contained with a clear error, and nothing outside the flow is touched.
 */
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import Docker from 'dockerode';
import { isValidImageRef } from '../../../src/core/imageRef';
import { parseFlowDocument } from '../../../src/core/flow/dagDocument';
import { configureIncludeRoots, includeRootsConfig, type IncludeRootsConfig } from '../../../src/core/flow/includeScope';
import { analyzeFlowDir } from '../../../src/core/flow/staticChecks';
import { checkPackageSpecs, pipOptionArgs } from '../../../src/core/image/pipOptions';
import { DapRelay } from '../../../src/core/debug/dapRelay';
import { DebugBridge } from '../../../src/core/debug/debugBridge';
import { isPort } from '../../../src/core/debug/debugRun';
import { checkLaunchConfiguration } from '../../../src/core/debug/launchConfig';
import { Methods } from '../../../src/core/runtime/protocol';
import { RunService } from '../../../src/core/runs/runService';
import { listFlowFiles } from '../../../src/core/fs/flowArchive';
import { inlineDataImages } from '../../../src/core/runs/dataImages';
import { storeImages } from '../../../src/core/runs/imageFiles';
import type { SessionManager } from '../../../src/core/session/sessionManager';
import { parseWebviewMessage } from '../../../src/shared/protocol';
import * as tls from 'tls';
import { makeBatchCertificate } from '../../../src/core/runs/workers/batchCertificate';
import { WorkerCoordinator } from '../../../src/core/runs/workers/workerCoordinator';
import { BatchOutput, readTrace } from '../../../src/core/runs/runStore';
import { BatchTraceFile } from '../../../src/core/runs/batchTraceFile';
import type { LineEndEvent, LineTraceRecord } from '../../../src/core/runtime/protocol';
import { runCli } from '../../support/cli';
import { startOtlpReceiver } from '../../support/otlpReceiver';
import { assertClear, guardFlow, guardedFlowJar, hostile } from '../../support/faults/tally';
import { HELLO_FLOW, toolFlow } from '../../support/flows/fixtures';
import { waitUntil, within } from '../../support/waiting';
import { testManager } from '../../support/world/manager';
import { testEngine, world } from '../../support/world/world';

const YAML_CODES = (text: string | Uint8Array) => parseFlowDocument(text).problems.map((p) => p.code);

describe('hostile input', function () {
  this.timeout(180_000);
  let manager: SessionManager;
  const jar = guardedFlowJar();
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'flowsession-outside-'));
  const secretFile = path.join(outside, 'secret.txt');

  before(() => {
    manager = testManager();
    fs.writeFileSync(secretFile, 'outside the flow\n');
  });

  after(async () => {
    await jar.dispose([manager]);
    manager.dispose();
    assert.strictEqual(fs.readFileSync(secretFile, 'utf8'), 'outside the flow\n', 'the file outside the flow is untouched');
    fs.rmSync(outside, { recursive: true, force: true });
  });

  describe('flow.dag.yaml', () => {
    const bomb = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nnodes: [*g]\n`;
    const deep = `nodes: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`;
    const cases: [string, string | Buffer][] = [
      ['a YAML bomb (aliases)', bomb],
      ['a huge flow.dag.yaml (6 MB)', `# ${'x'.repeat(6 * 1024 * 1024)}\nnodes: []\n`],
      ['a deeply nested flow.dag.yaml', deep],
      ['a binary flow.dag.yaml', crypto.randomBytes(4096)],
      ['a flow.dag.yaml that is not UTF-8', Buffer.from('nodes:\n- name: caf\xe9\n', 'latin1')],
    ];
    for (const [name, content] of cases) {
      it(`${name}: refused in process and by the CLI, which does not crash`, async () => {
        await hostile(name, async () => {
          const t = Date.now();
          assert.deepStrictEqual(YAML_CODES(typeof content === 'string' ? content : new Uint8Array(content)), ['YamlParseError']);
          const dir = jar.make({ ...HELLO_FLOW, 'flow.dag.yaml': '' });
          fs.writeFileSync(path.join(dir, 'flow.dag.yaml'), content);
          guardFlow(dir); // the hostile file is the user's file now: it must come out unchanged
          const analysis = await analyzeFlowDir(dir);
          assert.ok(analysis.problems.some((p) => p.code === 'YamlParseError'));
          assert.ok(Date.now() - t < 10_000, 'quickly');
          for (const args of [
            ['validate', dir, '--static', '--json'],
            ['session', 'up', dir, '--json'],
          ]) {
            const r = await runCli(args, {}, 60_000);
            assert.ok(r.code === 1 || r.code === 2, `${args.join(' ')}: exit ${r.code}: ${r.stderr.slice(-300)}`);
            assert.ok(
              !/\n\s+at /.test(r.stderr) && !/heap out of memory|RangeError/i.test(r.stderr),
              `a clear message, no crash: ${r.stderr.slice(-300)}`,
            );
          }
          assert.strictEqual((await manager.list()).filter((s) => s.flowDir === dir).length, 0, 'no session for it');
        });
      });
    }
  });

  describe('flow.flex.yaml and .prompty files', () => {
    const bomb = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nmodel: [*g]\n`;
    const cases: [string, string, string | Buffer][] = [
      ['a YAML bomb in a prompty front matter', 'p.prompty', `---\n${bomb}---\nuser:\nhi\n`],
      ['a deeply nested prompty front matter', 'p.prompty', `---\nmodel: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n---\nuser:\n`],
      ['a huge prompty front matter (6 MB)', 'p.prompty', `---\n# ${'x'.repeat(6 * 1024 * 1024)}\nmodel: {}\n---\nuser:\n`],
      ['a binary .prompty', 'p.prompty', Buffer.concat([Buffer.from('---\n'), crypto.randomBytes(4096), Buffer.from('\n---\n')])],
      ['a YAML bomb in flow.flex.yaml', 'flow.flex.yaml', bomb.replace('model:', 'entry:')],
      ['an entry climbing out of the flow folder', 'flow.flex.yaml', 'entry: ../../etc/passwd:read\n'],
    ];
    for (const [name, file, content] of cases) {
      it(`${name}: refused statically and by the CLI, which does not crash or start a session`, async () => {
        await hostile(name, async () => {
          const dir = jar.make({});
          fs.writeFileSync(path.join(dir, file), content);
          guardFlow(dir);
          const t = Date.now();
          for (const args of [
            ['validate', path.join(dir, file), '--static', '--json'],
            ['run', path.join(dir, file), '--json'],
          ]) {
            const r = await runCli(args, {}, 60_000);
            assert.strictEqual(r.code, 1, `${args.join(' ')}: exit ${r.code}: ${r.stderr.slice(-300)}`);
            assert.ok(
              !/\n\s+at /.test(r.stderr) && !/heap out of memory|RangeError/i.test(r.stderr),
              `a clear message, no crash: ${r.stderr.slice(-300)}`,
            );
          }
          assert.ok(Date.now() - t < 30_000, 'quickly');
          assert.strictEqual((await manager.list()).filter((s) => s.flowDir === dir).length, 0, 'no session for it');
        });
      });
    }
  });

  describe('paths', () => {
    it('node sources that climb out, are absolute, or go through a symlink out are refused', async () => {
      await hostile('source paths out of the flow folder', async () => {
        for (const p of ['../../../../etc/passwd', '/etc/passwd', 'link.py']) {
          const dir = jar.make({ ...HELLO_FLOW, 'flow.dag.yaml': HELLO_FLOW['flow.dag.yaml'].replace('path: hello.py', `path: ${p}`) });
          fs.symlinkSync(secretFile, path.join(dir, 'link.py'));
          const analysis = await analyzeFlowDir(dir);
          assert.ok(
            analysis.problems.some((x) => x.code === 'InvalidSource'),
            `${p}: ${analysis.problems.map((x) => x.code).join(',')}`,
          );
          assert.ok(!listFlowFiles(dir).some((f) => f.name === 'link.py'), 'a link out is never copied into the session');
        }
      });
    });

    it('additional_includes naming the file system root or an ancestor of the flow are refused', async () => {
      await hostile('additional_includes out of bounds', async () => {
        const dir = jar.make(HELLO_FLOW);
        for (const inc of ['/', '..', '../..']) {
          assert.throws(
            () => listFlowFiles(dir, [inc]),
            (e: Error & { kind?: string }) => e.kind === 'bad-input' && /additional_includes|include/.test(e.message),
            inc,
          );
        }
      });
    });

    describe('additional_includes and symlinks leading out of the include scope', () => {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'flowsession-home-'));
      let saved: IncludeRootsConfig;
      before(() => {
        fs.mkdirSync(path.join(home, '.ssh'));
        fs.writeFileSync(path.join(home, '.ssh', 'id_rsa'), 'PRIVATE KEY\n');
        saved = includeRootsConfig();
        configureIncludeRoots({ home });
      });
      after(() => {
        configureIncludeRoots(saved);
        fs.rmSync(home, { recursive: true, force: true });
      });

      /**
       * The flow lists `entry`, gets `links` (name → target); the entry is an error on its line or missing, and nothing of
       * it is copied.
       */
      async function refused(entry: string, links: Record<string, string> = {}, code = 'InvalidAdditionalInclude'): Promise<void> {
        const yaml = `${HELLO_FLOW['flow.dag.yaml']}additional_includes:\n- ${entry}\n`;
        const dir = jar.make({ ...HELLO_FLOW, 'flow.dag.yaml': yaml });
        for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(dir, name));
        const analysis = await analyzeFlowDir(dir);
        const line = yaml.split('\n').indexOf(`- ${entry}`) + 1;
        assert.ok(
          analysis.problems.some((p) => p.code === code && p.line === line),
          `${entry}: ${analysis.problems.map((p) => `${p.code}@${p.line}`).join(',')}`,
        );
        const copied = listFlowFiles(dir, [entry]).map((f) => f.name);
        assert.deepStrictEqual(copied.sort(), ['flow.dag.yaml', 'hello.py'], `${entry}: nothing of it is copied`);
      }

      it('through ..', () => hostile('include climbing out with ..', () => refused('../../../../etc/passwd')));
      it('by an absolute path', () => hostile('include by an absolute path', () => refused(secretFile)));
      it('through ~, which prompt flow does not expand', () =>
        hostile('include through ~', () => refused('~/.ssh', {}, 'FlowDefinitionError')));
      it('through a symlinked folder in the flow', () =>
        hostile('symlinked folder to a home dot folder', () => refused('keys', { keys: path.join(home, '.ssh') })));
      it('through a symlinked include', () =>
        hostile('symlinked include out of the scope', () => refused('secret.txt', { 'secret.txt': secretFile })));
    });

    it('images named by a batch data file are read only from its folder, and result images name no path', async () => {
      await hostile('image paths of data files and results', async () => {
        const dataDir = jar.make({ 'pic.png': 'PNG' });
        fs.symlinkSync(secretFile, path.join(dataDir, 'linked.png'));
        const lines = [
          { img: { 'data:image/png;path': '../secret.txt' } },
          { img: { 'data:image/png;path': secretFile } },
          { img: 'linked.png' },
          { img: { 'data:image/png;path': 'pic.png' } },
        ];
        const out = inlineDataImages(Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n')), dataDir).toString();
        assert.ok(!out.includes(Buffer.from('outside the flow\n').toString('base64')), 'nothing outside the data folder is read');
        assert.deepStrictEqual(JSON.parse(out.split('\n')[3]), { img: { 'data:image/png;base64': Buffer.from('PNG').toString('base64') } });
        const runDir = path.join(dataDir, 'run');
        for (const key of ['data:image/../../../x;base64', 'data:image/png/../../x;base64', 'data:image/;base64'])
          assert.deepStrictEqual(storeImages({ [key]: 'AAAA' }, runDir, runDir), { [key]: 'AAAA' }, key);
        assert.ok(!fs.existsSync(runDir), 'no file is written for a value that is no image');
      });
    });

    it('file copies into the session that climb out are refused by the runtime', async () => {
      await hostile('writeFiles climbing out', async () => {
        const dir = jar.make(HELLO_FLOW);
        await manager.up(dir);
        const rt = await manager.runtime(dir);
        for (const p of ['../evil.py', '/etc/evil', 'a/../../evil', 'a\\..\\evil']) {
          await assert.rejects(
            rt.request(Methods.writeFiles, { files: [{ path: p, content: Buffer.from('x').toString('base64') }] }),
            /invalid path|leaves/,
            p,
          );
        }
        await assert.rejects(manager.syncFile(dir, '../../etc/passwd'));
      });
    });
  });

  describe('names', () => {
    it('package names and pip options carrying shell syntax are refused before anything runs', async () => {
      await hostile('package names and pip options with shell syntax', async () => {
        for (const spec of [
          'requests; rm -rf /',
          '$(id)',
          '`id`',
          'a|b',
          'a && b',
          '--index-url=http://127.0.0.1:1/',
          '-r/etc/passwd',
          'x\ny',
          'pkg @ file:///etc',
        ]) {
          assert.throws(
            () => checkPackageSpecs([spec]),
            (e: Error & { kind?: string }) => e.kind === 'bad-input',
            spec,
          );
        }
        const base = { indexUrl: '', extraIndexUrl: [], findLinks: [], trustedHost: [], noIndex: false };
        for (const v of ['--trusted-host evil', 'http://x y', '-e.', 'a\nb']) {
          assert.throws(
            () => pipOptionArgs({ ...base, indexUrl: v }),
            (e: Error & { kind?: string }) => e.kind === 'bad-input',
            v,
          );
        }
        const dir = jar.make(HELLO_FLOW);
        await manager.up(dir);
        await assert.rejects(
          manager.install(dir, ['ok-name', '$(touch /tmp/pwned)']),
          (e: Error & { kind?: string }) => e.kind === 'bad-input',
        );
      });
    });

    it('image names and tags with odd characters are refused with a clear error', async () => {
      await hostile('odd image names', async () => {
        for (const ref of [
          'python:3.11; rm -rf /',
          'a//b',
          'a b',
          'x:tag with space',
          '../x',
          'x@sha256:zz',
          `x:${'t'.repeat(200)}`,
          '$(id)',
        ]) {
          assert.strictEqual(isValidImageRef(ref), false, ref);
        }
        const dir = jar.make({
          ...HELLO_FLOW,
          'flow.dag.yaml': `environment:\n  image: "python:3.11; touch /tmp/pwned"\n${HELLO_FLOW['flow.dag.yaml']}`,
        });
        const m = testManager({ FLOWSESSION_BASE_IMAGE: '' });
        try {
          const e = await within(
            'the start',
            30_000,
            m.up(dir).then(
              () => new Error('started'),
              (x: Error) => x,
            ),
          );
          assertClear(e as Error & { kind?: string }, ['bad-input', 'pull-failed', 'image-not-found']);
        } finally {
          m.dispose();
        }
      });
    });
  });

  it('tool code cannot reach the engine, gain privileges, or write outside its folder', async () => {
    await hostile('tool code escaping the session', async () => {
      const dir = jar.make(
        toolFlow(`import json, os, socket, subprocess
r = {}
r["uid"] = os.getuid()
r["sock"] = os.path.exists("/var/run/docker.sock") or os.path.exists("/run/docker.sock")
try:
    s = socket.socket(socket.AF_UNIX); s.connect("/var/run/docker.sock"); r["connect"] = True
except OSError:
    r["connect"] = False
try:
    os.setuid(0); r["setuid"] = True
except OSError:
    r["setuid"] = False
for name, path in (("etc", "/etc/passwd"), ("usr", "/usr/lib/flowsession-evil"), ("root", "/root/evil")):
    try:
        open(path, "a").write("x"); r[name] = True
    except OSError:
        r[name] = False
try:
    p = subprocess.run(["su", "-c", "id -u"], input=b"\\n", capture_output=True, timeout=10); r["su"] = p.stdout.strip() == b"0"
except Exception:
    r["su"] = False
import glob
suid = [f for d in ("/usr/bin", "/bin", "/usr/sbin") for f in glob.glob(d + "/*") if os.path.isfile(f) and os.stat(f).st_mode & 0o4000]
r["suid_root"] = []
for f in suid[:10]:
    try:
        p = subprocess.run([f, "--version"], capture_output=True, timeout=5)
    except Exception:
        pass
r["capeff"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
r["nnp"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("NoNewPrivs")][0]
open("/flow/written-by-tool.txt", "w").write("inside the session copy only")
return json.dumps(r)`),
      );
      const r = await new RunService(manager).run(dir);
      assert.strictEqual(r.status, 'Completed', JSON.stringify(r.error));
      const got = JSON.parse(String(r.outputs?.out)) as Record<string, unknown>;
      assert.notStrictEqual(got.uid, 0);
      assert.deepStrictEqual(
        { sock: got.sock, connect: got.connect, setuid: got.setuid, etc: got.etc, usr: got.usr, root: got.root, su: got.su },
        { sock: false, connect: false, setuid: false, etc: false, usr: false, root: false, su: false },
      );
      assert.strictEqual(got.capeff, '0000000000000000');
      assert.strictEqual(got.nnp, '1');
      assert.ok(!fs.existsSync(path.join(dir, 'written-by-tool.txt')), "the session never writes the user's folder");
    });
  });

  it('the debug channel: what a session sends that is not DAP ends the debug session, and bad launch configurations start nothing', async () => {
    await hostile('debug channel', async () => {
      for (const config of [
        {},
        { flow: 42 },
        { flow: '/f', inputs: [1] },
        { flow: '/f', node: { x: 1 } },
        { flow: '/f', justMyCode: 'yes' },
      ])
        assert.throws(() => checkLaunchConfiguration(config as Record<string, unknown>), /debug configuration's "/, JSON.stringify(config));
      checkLaunchConfiguration(JSON.parse('{"flow":"/f","__proto__":{"polluted":true},"inputs":{"__proto__":{"polluted":true}}}'));
      assert.strictEqual(({} as Record<string, unknown>).polluted, undefined);
      for (const port of [0, -1, 65536, 1.5, '22; rm -rf /', null]) assert.strictEqual(isPort(port), false, String(port));

      // code in the session is not trusted: whatever answers on the relay, the host stays bounded and ends the session
      const dir = jar.make(HELLO_FLOW);
      await manager.up(dir);
      const container = (await manager.status(dir)).container!;
      const speakers: [string, string, RegExp][] = [
        ['plain text, then the end', 'print("hello, I am not a debug adapter")', /ended/],
        ['a 10 GB message', 'import sys; sys.stdout.write("Content-Length: 10000000000\\r\\n\\r\\n"); sys.stdout.flush()', /over the/],
        ['a body that is not JSON', 'import sys; sys.stdout.write("Content-Length: 5\\r\\n\\r\\n{{{{{"); sys.stdout.flush()', /not JSON/],
        ['header bytes without end', 'import sys; sys.stdout.write("x" * 65536); sys.stdout.flush()', /no Content-Length/],
      ];
      for (const [what, script, why] of speakers) {
        const exec = await manager.engine.execSession(container, ['python3', '-c', script], { user: '10001:10001' });
        const relay = new DapRelay(exec);
        let ended: (why: string | undefined) => void = () => undefined;
        const bridge = new DebugBridge(relay, { attachArguments: {}, stopRun: () => undefined, runEnded: new Promise((r) => (ended = r)) });
        const toClient: string[] = [];
        bridge.onMessage((m) => toClient.push(String(m.event ?? m.command)));
        const reason = await within(`${what} to end the relay`, 20_000, relay.closed);
        assert.match(reason, why, what);
        ended(undefined);
        await waitUntil(`${what}: the client told the session terminated`, 5_000, () => toClient.includes('terminated'));
      }
    });
  });

  it('webview messages that are malformed, oversized or forged are refused', async () => {
    await hostile('webview messages', () => {
      const bad: unknown[] = [
        null,
        'run',
        42,
        [],
        { type: 7 },
        { type: 'nope' },
        { type: 'ready', extra: 1 },
        { type: 'run', inputs: { x: 'y'.repeat(2 * 1024 * 1024) } },
        { type: 'run', inputs: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v'])) },
        JSON.parse('{"type":"run","inputs":{"__proto__":{"polluted":true}}}'),
        { type: 'run', inputs: { 'a b': 'x' } },
        { type: 'run', inputs: { x: { nested: true } } },
        { type: 'openFile', runId: '../../etc', file: 'passwd' },
        { type: 'openFile', runId: 'r1', file: '../../../etc/passwd' },
        { type: 'openFile', runId: 'r1', file: '/etc/passwd' },
        { type: 'cancel', runId: 'x'.repeat(1000) },
        { type: 'cancel', runId: 'a/b' },
        { type: 'chatSend', message: 'x'.repeat(2 * 1024 * 1024), inputs: {} },
        { type: 'chatSend', message: '', inputs: {} },
        { type: 'chatSend', message: { toString: 'hi' }, inputs: {} },
        { type: 'chatSend', message: 'hi', inputs: {}, history: [{ inputs: {}, outputs: { answer: 'forged' } }] },
        JSON.parse('{"type":"chatSend","message":"hi","inputs":{"__proto__":{"polluted":true}}}'),
        { type: 'chatClear', turns: [] },
        { type: 'run', inputs: {}, variants: { node: '${other.v1}' } },
        { type: 'run', inputs: {}, variants: { '../node': 'v1' } },
        { type: 'run', inputs: {}, variants: { node: { v: 1 } } },
        { type: 'run', inputs: {}, variants: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`n${i}`, 'v'])) },
        { type: 'openNodeSource', node: '../../etc/passwd' },
        { type: 'openNodeSource', node: 'x'.repeat(10_000) },
        { type: 'openValue', runId: 'r1', kind: 'file', name: 'a' },
        { type: 'openValue', runId: '../r1', kind: 'node', name: 'a' },
        { type: 'compareRuns', runIds: ['r1'] },
        { type: 'compareRuns', runIds: ['r1', 'r1'] },
        { type: 'compareRuns', runIds: Array.from({ length: 50 }, (_, i) => `r${i}`) },
        { type: 'compareRuns', runIds: ['r1', '../../etc'] },
        { type: 'compareRuns', runIds: { 0: 'a', 1: 'b', length: 2 } },
        new (class Forged {
          type = 'ready';
        })(),
      ];
      for (const m of bad) assert.strictEqual(parseWebviewMessage(m).ok, false, JSON.stringify(m)?.slice(0, 100));
      assert.strictEqual(({} as Record<string, unknown>).polluted, undefined);
      assert.strictEqual(parseWebviewMessage({ type: 'ready' }).ok, true);
    });
  });

  it('a streaming llm endpoint that sends garbage, an error, a stall or a huge chunk fails or completes clearly', async () => {
    await hostile('hostile streamed llm answers', async () => {
      // an endpoint is not trusted: a proxy or a broken server may send anything down a stream
      const server = http.createServer((req, res) => {
        let raw = '';
        req.on('data', (d) => (raw += d));
        req.on('end', () => {
          const model = String((JSON.parse(raw || '{}') as { model?: string }).model);
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const chunk = (text: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: text } }] })}\n\n`;
          if (model === 'garbage') res.end(`${chunk('ok ')}data: {not json\n\n`);
          else if (model === 'error')
            res.end(`${chunk('ok ')}data: ${JSON.stringify({ error: { message: 'overloaded mid-stream' } })}\n\n`);
          else if (model === 'stall')
            res.write(chunk('ok ')); // and never more
          else res.end(`${chunk('y'.repeat(4 * 1024 * 1024))}${chunk('!')}data: [DONE]\n\n`);
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const m = testManager();
      try {
        const runs = new RunService(m);
        const run = async (model: string) => {
          const dir = jar.make({
            'flow.dag.yaml': `inputs: {}\noutputs:\n  answer:\n    type: string\n    reference: \${ask.output}\nnodes:\n- name: ask\n  type: llm\n  source: {type: code, path: ask.jinja2}\n  connection: oai\n  api: chat\n  inputs:\n    model: ${model}\n    stream: true\n`,
            'ask.jinja2': '# user:\nhello\n',
          });
          let streamed = 0;
          const r = await runs.run(dir, {
            connections: { oai: { type: 'OpenAIConnection', api_key: 'sk-hostile-test', base_url: url } },
            llmTimeoutSeconds: 2,
            onEvent: (e) => {
              if (e.event === 'outputStream') streamed += e.text.length;
            },
          });
          return { r, streamed, dir };
        };
        const garbage = await run('garbage');
        assert.strictEqual(garbage.r.status, 'Failed');
        assert.match(garbage.r.error?.message ?? '', /stream chunk that is not JSON/);
        const error = await run('error');
        assert.match(error.r.error?.message ?? '', /overloaded mid-stream/);
        const stall = await run('stall');
        assert.match(stall.r.error?.message ?? '', /APITimeoutError/);
        const huge = await run('huge');
        assert.strictEqual(huge.r.status, 'Completed', JSON.stringify(huge.r.error));
        assert.strictEqual((huge.r.outputs?.answer as string).length, 4 * 1024 * 1024 + 1, 'the whole text is recorded');
        assert.strictEqual(huge.streamed, 4 * 1024 * 1024 + 1, 'streamed in pieces under the event limit');
      } finally {
        m.dispose();
        server.closeAllConnections();
        server.close();
      }
    });
  });

  it("an LLM endpoint the flow's own code calls may answer garbage, a huge body or a broken stream: the code reads exactly what was sent, the trace stays small", async () => {
    await hostile('hostile answers to user code traced over http.client', async () => {
      const huge = 'z'.repeat(12 * 1024 * 1024);
      const bodies: Record<string, string> = {
        garbage: '{"choices": [ not json',
        huge: JSON.stringify({ choices: [{ message: { content: huge } }], usage: { prompt_tokens: 'many' } }),
        stream: 'data: {"choices": [{"delta": {"content": "a"}}]}\n\ndata: {broken\n\ndata: [1, 2]\n\ndata: "text"\n\n',
        nested: JSON.stringify({ usage: { prompt_tokens: { deep: [[[[1]]]] } }, model: ['x'], choices: 'none' }),
      };
      const server = http.createServer((req, res) => {
        let raw = '';
        req.on('data', (d) => (raw += d));
        req.on('end', () => {
          const mode = String((JSON.parse(raw || '{}') as { model?: string }).model);
          res.writeHead(mode === 'status' ? 500 : 200, { 'content-type': mode === 'stream' ? 'text/event-stream' : 'application/json' });
          res.end(bodies[mode] ?? 'server error');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const dir = jar.make({
        'flow.dag.yaml': `inputs:\n  mode:\n    type: string\noutputs:\n  out:\n    type: string\n    reference: \${call.output}\nnodes:\n- name: call\n  type: python\n  source: {type: code, path: call.py}\n  inputs:\n    conn: oai\n    mode: \${inputs.mode}\n`,
        // the tool reads the answer its own way (whole, in pieces, line by line) and reports what it got
        'call.py': `import hashlib, json, urllib.error, urllib.request\nfrom promptflow import tool\nfrom promptflow.connections import OpenAIConnection\n\n\n@tool\ndef call(conn: OpenAIConnection, mode: str) -> str:\n    req = urllib.request.Request(conn.base_url + "/chat/completions", data=json.dumps({"model": mode}).encode(), method="POST", headers={"Authorization": "Bearer " + conn.api_key})\n    try:\n        with urllib.request.urlopen(req) as resp:\n            if mode == "stream":\n                got = b"".join(resp)\n            elif mode == "huge":\n                got = b""\n                while True:\n                    part = resp.read(65536)\n                    if not part:\n                        break\n                    got += part\n            else:\n                got = resp.read()\n    except urllib.error.HTTPError as e:\n        got = e.read()\n    return "%d %s" % (len(got), hashlib.sha256(got).hexdigest())\n`,
      });
      const m = testManager();
      try {
        const runs = new RunService(m);
        const key = `sk-${crypto.randomBytes(12).toString('hex')}`;
        for (const mode of ['garbage', 'huge', 'stream', 'nested', 'status']) {
          const body = Buffer.from(bodies[mode] ?? 'server error');
          const r = await runs.run(dir, {
            connections: { oai: { type: 'OpenAIConnection', api_key: key, base_url: url } },
            inputs: { mode },
          });
          assert.strictEqual(r.status, 'Completed', `${mode}: ${JSON.stringify(r.error)}`);
          assert.strictEqual(
            r.outputs?.out,
            `${body.length} ${crypto.createHash('sha256').update(body).digest('hex')}`,
            `${mode}: what the code read`,
          );
          const llm = (r.trace ?? []).filter((sp) => sp.kind === 'llm');
          assert.strictEqual(llm.length, 1, `${mode}: one LLM span`);
          assert.strictEqual(llm[0].status, mode === 'status' ? 'Error' : 'Ok', mode);
          assert.ok(JSON.stringify(r.trace).length < 64 * 1024, `${mode}: the trace stays small`);
          assert.ok(!JSON.stringify(r.trace).includes(key), `${mode}: no key in the trace`);
          assert.ok(!('gen_ai.usage.input_tokens' in llm[0].attributes), `${mode}: no usage made up from a bad answer`);
        }
      } finally {
        m.dispose();
        server.closeAllConnections();
        server.close();
      }
    });
  });

  it('a workspace in Restricted Mode cannot point the engine, images, pip, network, registry or include roots elsewhere', async () => {
    await hostile('workspace settings in Restricted Mode', () => {
      // VS Code ignores a restricted setting from an untrusted workspace's own settings.json; the extension's start,
      // run and install paths refuse in Restricted Mode (the Restricted Mode UI test drives those)
      const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
        capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] } };
        contributes: { configuration: { properties: Record<string, unknown> } };
      };
      const trust = manifest.capabilities.untrustedWorkspaces;
      assert.strictEqual(trust.supported, 'limited');
      // settings that only limit a session (its size, when it stops) or ask for a start that is refused anyway
      const harmless = ['flowsession.idleTimeoutMinutes', 'flowsession.cpus', 'flowsession.memoryMb', 'flowsession.autoStartSession'];
      const open = Object.keys(manifest.contributes.configuration.properties).filter(
        (k) => !harmless.includes(k) && !trust.restrictedConfigurations.includes(k),
      );
      assert.deepStrictEqual(open, [], 'every setting that picks where code runs or what it reaches is restricted');
    });
  });

  it('a connection secret appears in no container env, label, image history, log, output, .promptflow file or event', async () => {
    await hostile('connection secret leaks', async () => {
      const secret = `sk-${crypto.randomBytes(12).toString('hex')}`;
      const dir = jar.make({
        ...toolFlow('return "ok"'),
        'flow.dag.yaml': `inputs: {}\noutputs:\n  out:\n    type: string\n    reference: \${work.output}\nnodes:\n- name: work\n  type: python\n  source: {type: code, path: work.py}\n  inputs:\n    conn: my_conn\n`,
        'work.py': `from promptflow import tool\nfrom promptflow.connections import CustomConnection\n\n\n@tool\ndef work(conn: CustomConnection) -> str:\n    key = conn.secrets["api_key"]\n    print("the key is", key)\n    import sys; sys.stderr.write("stderr " + key + "\\n")\n    return "key length %d" % len(key)\n`,
      });
      const logs: string[] = [];
      const events: string[] = [];
      const m = testManager();
      const r = await new RunService(m).run(dir, {
        connections: { my_conn: { type: 'CustomConnection', api_key: secret } } as never,
        onEvent: (e) => events.push(JSON.stringify(e)),
      });
      m.dispose();
      assert.strictEqual(r.status, 'Completed', JSON.stringify(r.error));
      const seen = (where: string, text: string) => assert.ok(!text.includes(secret), `the secret is in ${where}`);
      seen('the run events (what the panel shows)', events.join('\n'));
      seen('the outputs', JSON.stringify(r));
      seen('the manager log', logs.join('\n'));
      const walk = (d: string): string[] =>
        fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
      for (const f of walk(path.join(dir, '.promptflow'))) seen(f, fs.readFileSync(f, 'utf8'));
      const s = await manager.status(dir);
      const docker = new Docker(testEngine().endpoint.options);
      const c = await docker.getContainer(s.container!).inspect();
      seen('the container env and labels', JSON.stringify({ env: c.Config.Env, labels: c.Config.Labels, cmd: c.Config.Cmd }));
      seen('the image history', JSON.stringify(await docker.getImage(c.Image).history()));
      const logsOut = await testEngine().exec(
        s.container!,
        [
          'python3',
          '-c',
          'import os\nfor d in ("/tmp", "/flow"):\n    for r, _, fs in os.walk(d):\n        for f in fs:\n            try:\n                print(open(os.path.join(r, f), errors="replace").read())\n            except OSError:\n                pass',
        ],
        { user: '10001' },
      );
      seen('files in the container', logsOut.stdout);
      void world;
    });
  });

  describe('connection files (--connections)', () => {
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\nname: n\ntype: custom\nconfigs: {x: *f}\n`;
    const cases: [string, string | Buffer, RegExp][] = [
      ['a connection file with a YAML bomb (aliases)', bomb, /aliases too many times/],
      [
        'a huge connection file (3 MB)',
        `name: n\ntype: serp\napi_key: "${'k'.repeat(3 * 1024 * 1024)}"\n`,
        /too big for a connections file/,
      ],
      ['a connection file that is not YAML', crypto.randomBytes(4096), /not valid YAML|no connection in this file|must be a mapping/],
      [
        'a deeply nested connection file',
        `name: n\ntype: custom\nconfigs: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`,
        /not valid YAML|must be a mapping/,
      ],
      [
        '${env:…} references that try more than one variable',
        'name: n\ntype: serp\napi_key: ${env:HOME}${env:PATH}\n',
        /not a valid \$\{env:NAME\} reference/,
      ],
      [
        'an ${env:…} reference with a default or a path',
        'name: n\ntype: serp\napi_key: ${env:X:-/etc/passwd}\n',
        /not a valid \$\{env:NAME\} reference/,
      ],
      ['a nested ${env:${env:…}} reference', 'name: n\ntype: serp\napi_key: ${env:${env:HOME}}\n', /not a valid \$\{env:NAME\} reference/],
    ];
    for (const [name, content, expected] of cases) {
      it(`${name}: the CLI refuses it quickly with its place, before any session work`, async () => {
        await hostile(name, async () => {
          const flow = jar.make(HELLO_FLOW);
          const dir = jar.make({ 'c.yml': '' });
          fs.writeFileSync(path.join(dir, 'c.yml'), content);
          guardFlow(dir);
          const r = await runCli(['run', flow, '--connections', path.join(dir, 'c.yml')], {}, 60_000);
          assert.strictEqual(r.code, 1, r.stderr);
          assert.match(r.stderr, expected);
          assert.ok(r.ms < 20_000, `quickly (${r.ms} ms)`);
          assert.ok(!/\n\s+at /.test(r.stderr) && !/heap out of memory|RangeError/i.test(r.stderr), `no crash: ${r.stderr.slice(-300)}`);
          assert.ok(r.stderr.length < 2000, 'the message does not quote the file');
          assert.strictEqual((await manager.list()).filter((s) => s.flowDir === flow).length, 0, 'no session for it');
        });
      });
    }

    it('a secret from a connection file that the tool prints and raises is redacted; shell-like values are never evaluated', async () => {
      await hostile('connection file secret echoed by a tool', async () => {
        const secret = `pin-${crypto.randomBytes(10).toString('hex')}`;
        const conns = jar.make({
          'vault.yml': `$schema: https://azuremlschemas.azureedge.net/promptflow/latest/CustomStrongTypeConnection.schema.json\nname: vault\ntype: custom\ncustom_type: Vault\nmodule: work\nconfigs:\n  cmd: "$(id)"\n  tick: "\`id\`"\nsecrets:\n  vault_pin: \${env:FS_HOSTILE_PIN}\n`,
        });
        const dir = jar.make({
          ...toolFlow('return "ok"'),
          'flow.dag.yaml': `inputs: {}\noutputs:\n  out:\n    type: string\n    reference: \${work.output}\nnodes:\n- name: work\n  type: python\n  source: {type: code, path: work.py}\n  inputs:\n    conn: vault\n`,
          'work.py': `from promptflow import tool\nfrom promptflow.connections import CustomStrongTypeConnection\nfrom promptflow.contracts.types import Secret\n\n\nclass Vault(CustomStrongTypeConnection):\n    vault_pin: Secret\n    cmd: str\n\n\n@tool\ndef work(conn: Vault) -> str:\n    print("the pin is", conn.vault_pin, "cmd", conn.cmd, conn.configs["tick"])\n    raise ValueError("leaking " + conn.vault_pin)\n`,
        });
        const r = await runCli(['run', dir, '--connections', path.join(conns, 'vault.yml')], { FS_HOSTILE_PIN: secret });
        assert.strictEqual(r.code, 1, r.stderr);
        assert.match(r.stdout + r.stderr, /\(ValueError\) leaking \*\*\*/);
        assert.match(r.stdout + r.stderr, /the pin is \*\*\* cmd \$\(id\) `id`/, 'shell-like values arrive verbatim');
        assert.ok(!(r.stdout + r.stderr).includes(secret), 'not on the terminal');
        const walk = (d: string): string[] =>
          fs
            .readdirSync(d, { withFileTypes: true })
            .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
        for (const f of walk(path.join(dir, '.promptflow')))
          assert.ok(!fs.readFileSync(f, 'utf8').includes(secret), `the secret is in ${f}`);
        const s = await manager.status(dir);
        const c = await new Docker(testEngine().endpoint.options).getContainer(s.container!).inspect();
        assert.ok(!JSON.stringify({ env: c.Config.Env, labels: c.Config.Labels }).includes(secret), 'not in the container env or labels');
      });
    });
  });

  it('a connection secret reaches no span: not from a tool output, an exception, a print or an echoed connection field', async () => {
    await hostile('connection secret in a trace', async () => {
      const secret = `sk-${crypto.randomBytes(12).toString('hex')}`;
      const collector = await startOtlpReceiver();
      const dir = jar.make({
        'flow.dag.yaml': `inputs:\n  mode:\n    type: string\noutputs:\n  out:\n    type: string\n    reference: \${leak.output}\nnodes:\n- name: leak\n  type: python\n  source: {type: code, path: leak.py}\n  inputs:\n    conn: my_conn\n    mode: \${inputs.mode}\n`,
        // the key as the output, in an exception, printed, and the connection object itself (its fields) as the output
        'leak.py': `from promptflow import tool\nfrom promptflow.connections import CustomConnection\n\n\n@tool\ndef leak(conn: CustomConnection, mode: str) -> object:\n    key = conn.secrets["api_key"]\n    print("printing", key)\n    if mode == "raise":\n        raise ValueError("bad key " + key)\n    if mode == "echo":\n        return {"secrets": dict(conn.secrets), "configs": dict(conn.configs), "repr": repr(conn)}\n    return "the key is " + key\n`,
      });
      const m = testManager();
      try {
        const runs = new RunService(m, { otlpEndpoint: collector.url });
        const connections = { my_conn: { type: 'CustomConnection', api_key: secret, configs: { endpoint: 'http://e' } } } as never;
        for (const mode of ['output', 'raise', 'echo']) {
          const r = await runs.run(dir, { connections, inputs: { mode } });
          assert.ok(r.trace && r.trace.length >= 2, `${mode}: the run was traced`);
          assert.ok(!JSON.stringify(r.trace).includes(secret), `${mode}: the secret is in a span`);
          const file = path.join(dir, '.promptflow', 'runs', r.runId, 'trace.json');
          assert.ok(!fs.readFileSync(file, 'utf8').includes(secret), `${mode}: the secret is in trace.json`);
        }
        assert.strictEqual(collector.requests.length, 3);
        for (const req of collector.requests) assert.ok(!req.body.includes(secret), 'the secret is in an OTLP export');
        assert.ok(
          collector.requests.some((q) => q.body.includes('***')),
          'the secret was masked where it appeared',
        );
      } finally {
        m.dispose();
        await collector.close();
      }
    });
  });

  it("a batch's trace records from the session that are garbage, huge or try to close the span list are left out or contained", async () => {
    await hostile('batch trace records', async () => {
      const dir = jar.make(HELLO_FLOW);
      const file = path.join(dir, '.promptflow', 'runs', 'hostile_trace', 'trace.json');
      const trace = new BatchTraceFile(file, ['hostile-secret'], { flow: 'f', runId: 'hostile_trace' });
      trace.steps({
        event: 'traceSteps',
        runId: 'hostile_trace',
        traceId: 'ab'.repeat(16),
        parentSpanId: 'cd'.repeat(8),
        steps: [
          {
            name: 'step "]}]},{"x":[\u0000 hostile-secret',
            attributes: { ok: 'fine', nested: { a: 1 }, list: [1, 2], nan: NaN, 'key "]}': 'v' } as unknown as Record<string, string>,
            // where its inputs come from, as text the extension puts into an attribute's value
            inputs: [
              ['k "]}', 'value', '"}]}]},{"x":1 hostile-secret'],
              ['p', 'input', '__proto__'],
              ['s', 'step', 99],
            ],
          },
          // a step whose `inputs` are no list: a record cannot say its inputs are named
          { name: 'other', attributes: {}, inputs: 'nope' as unknown as [] },
        ],
      });
      const line = (index: number, fields: Record<string, unknown>): LineEndEvent => {
        const f: Record<string, unknown> = {
          start: '1700000000000000000',
          end: 10,
          ids: 'ef'.repeat(16),
          ok: true,
          steps: [[0, 1, 2, null, 'x']],
          ...fields,
        };
        const record = [f.start, f.end, f.ids, f.ok, f.steps, ...(f.spans ? [{ spans: f.spans }] : [])] as unknown as LineTraceRecord;
        return { event: 'lineEnd', runId: 'hostile_trace', index, status: 'Completed', durationMs: 0, traceRecord: record };
      };
      const rssBefore = process.memoryUsage().rss;
      trace.addLine(line(0, { ids: '"}]}]},{"x":"' }));
      trace.addLine(line(1, { start: '1; rm -rf /' }));
      trace.addLine(line(2, { steps: [[5, 1, 2, null, null]] }));
      trace.addLine(
        line(3, { spans: [{ traceId: 'ab', spanId: '"]}', name: 'x', kind: 'llm', start: '1', end: '2', status: 'Ok', attributes: {} }] }),
      );
      trace.addLine(line(4, { steps: [[0, 1, 2, { value: 'hostile-secret' }, 'x'.repeat(32 * 1024 * 1024), '"}]}]},{"injected":"']] }));
      trace.addLine({ ...line(5, {}), index: -1 });
      trace.addLine(line(6, { steps: [[1, 1, 2, true, 'x']] }));
      trace.addLine(line(7, { ids: '', steps: [[0, 1, 2, true, 'x']] }));
      assert.strictEqual(trace.unreadable, 6, 'bad ids, start, step index, inner span, line number and named inputs are left out');
      await trace.finish([]);
      assert.ok(process.memoryUsage().rss - rssBefore < 256 * 1024 * 1024, 'the trace stays bounded');
      const text = fs.readFileSync(file, 'utf8');
      assert.ok(!text.includes('hostile-secret'), 'a secret in a record or in the steps is masked');
      assert.ok(text.length < 64 * 1024, `a huge text is cut (${text.length} characters)`);
      assert.deepStrictEqual(fs.readdirSync(path.dirname(file)), ['trace.json'], 'only trace.json, no temporary file');
      const spans = await readTrace(path.dirname(file));
      assert.deepStrictEqual(
        spans.map((s) => s.name),
        ['step "]}]},{"x":[\u0000 ***', 'line 4', 'step "]}]},{"x":[\u0000 ***', 'line 7'],
        'trace.json stays a document readers read, the hostile texts in it as text',
      );
      assert.strictEqual(spans[0].attributes['flowsession.status'], '"}]}]},{"injected":"');
      assert.strictEqual(spans[2].attributes['flowsession.inputs'], '{"k \\"]}":"}]}]},{"x":1 ***,"p":null,"s":null}');
      assert.match(spans[2].spanId, /^[0-9a-f]{16}$/, 'ids the extension drew');
      assert.deepStrictEqual(Object.keys(spans[0].attributes).slice(0, 2), ['ok', 'key "]}'], 'attributes that are no values are left out');
    });
  });

  describe('batch coordinator (workers connect over TLS)', () => {
    type Msg = Record<string, unknown>;
    const withCoordinator = async (fn: (port: number, c: WorkerCoordinator, out: string) => Promise<void>) => {
      const dir = jar.make(HELLO_FLOW);
      const certificate = makeBatchCertificate();
      const output = new BatchOutput(dir, 'hostile_batch');
      const c = new WorkerCoordinator({
        runId: 'hostile_batch',
        flow: { nodes: [] },
        files: [],
        lines: ['{"x": 0}', '{"x": 1}', '{"x": 2}', '{"x": 3}'],
        output,
        certificate,
        token: 'the-token',
        params: { connections: { vault: { type: 'CustomConnection', secrets: { key: 'lease-secret' } } }, workers: 1 },
        expectedWorkers: 2,
      });
      const port = await c.listen();
      const ac = new AbortController();
      const running = c.run(ac.signal);
      try {
        await fn(port, c, output.file);
      } finally {
        ac.abort();
        await running;
        await output.finish();
      }
    };
    /** Collects the coordinator's frames on `sock` into `got`, calling `each` after every one. */
    const collect = (sock: tls.TLSSocket, got: Msg[], each?: () => void) => {
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => {
        buf += d;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          got.push(JSON.parse(buf.slice(0, nl)) as Msg);
          buf = buf.slice(nl + 1);
          each?.();
        }
      });
    };
    /** A TLS client that sends `lines` and collects what comes back until the server closes or `ms` pass. */
    const talk = (port: number, lines: (string | Msg)[], ms = 3000, after?: (got: Msg[], send: (m: Msg) => void) => void) =>
      new Promise<Msg[]>((resolve) => {
        const got: Msg[] = [];
        const sock = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
          for (const l of lines) sock.write(typeof l === 'string' ? l : `${JSON.stringify(l)}\n`);
        });
        collect(sock, got, () => after?.(got, (m) => sock.write(`${JSON.stringify(m)}\n`)));
        const end = () => resolve(got);
        sock.on('close', end);
        sock.on('error', end);
        setTimeout(() => {
          sock.destroy();
          end();
        }, ms);
      });

    it('garbage, a wrong token or silence before the hello get no flow, no lines and no secret', async () => {
      await hostile('batch coordinator: strangers', async () => {
        await withCoordinator(async (port, c) => {
          const garbage = await talk(port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n']);
          const wrong = await talk(port, [{ type: 'hello', token: 'the-tokem', worker: 'w', version: 1 }, { type: 'lease' }]);
          const leaseFirst = await talk(port, [{ type: 'lease' }, { type: 'hello', token: 'the-token', worker: 'w', version: 1 }]);
          const silent = await talk(port, [], 15_000);
          for (const got of [garbage, wrong, leaseFirst, silent]) {
            assert.ok(!JSON.stringify(got).includes('lease-secret'), JSON.stringify(got));
            assert.ok(!got.some((m) => m.type === 'welcome' || m.type === 'lease'), JSON.stringify(got));
          }
          assert.deepStrictEqual(
            wrong.map((m) => m.type),
            ['refused'],
          );
          assert.strictEqual(c.shares.size, 0);
        });
      });
    });

    /** Sends `bytes` with no newline in 16 KB writes (as a TLS peer streams it); resolves when the server cuts it off. */
    const flood = (port: number, first: Msg[], bytes: number) =>
      new Promise<{ got: Msg[]; sent: number; cutOff: boolean }>((resolve) => {
        const got: Msg[] = [];
        let sent = 0;
        const piece = Buffer.alloc(16 * 1024, 0x61);
        const sock = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
          for (const m of first) sock.write(`${JSON.stringify(m)}\n`);
          const pump = () => {
            while (sent < bytes && !sock.destroyed) {
              sent += piece.length;
              if (!sock.write(piece)) return void sock.once('drain', pump);
            }
          };
          // the flood starts once the coordinator answered the hello (or at once for a stranger)
          if (first.length === 0) pump();
          else sock.once('data', pump);
        });
        collect(sock, got);
        const end = () => resolve({ got, sent, cutOff: sent < bytes });
        sock.on('close', end);
        sock.on('error', end);
      });

    it('a frame over the limit is cut off: a stranger after 64 KB, a worker after 64 MB, each byte looked at once', async () => {
      await hostile('batch coordinator: huge frames', async () => {
        await withCoordinator(async (port, c) => {
          const stranger = await within('a stranger with a huge first frame to be cut off', 30_000, flood(port, [], 8 * 1024 * 1024));
          assert.ok(stranger.cutOff, `the coordinator read ${stranger.sent} bytes of a stranger's first frame`);
          assert.ok(!stranger.got.some((m) => m.type === 'welcome'));
          assert.strictEqual(c.shares.size, 0);
          // a worker with the token gets its lease, then sends one endless line: 64 MB are read once, then it is cut off
          // (re-scanning a growing buffer on every piece would take minutes here)
          const hello = { type: 'hello', token: 'the-token', worker: 'flooder', version: 1 };
          const worker = await within(
            'a worker with a huge frame to be cut off',
            120_000,
            flood(port, [hello, { type: 'lease' }], 80 * 1024 * 1024),
          );
          assert.ok(worker.cutOff, 'the coordinator read 80 MB of one frame');
          assert.ok(worker.sent >= 64 * 1024 * 1024, `cut off after ${worker.sent} bytes, before the limit`);
          assert.ok(!JSON.stringify(worker.got).includes('"y"'));
          // its lease went back: an honest worker still gets every line
          const honest = await talk(port, [hello, { type: 'lease' }], 5000, (msgs, send) => {
            const last = msgs[msgs.length - 1];
            if (last.type !== 'lease') return;
            (last.lines as string[]).forEach((_l, index) =>
              send({
                type: 'line',
                leaseId: last.leaseId,
                line: { event: 'lineEnd', runId: 'x', index, status: 'Completed', durationMs: 1, output: {} },
              }),
            );
            send({ type: 'leaseEnd', leaseId: last.leaseId, result: { status: 'Completed', total: 1, completed: 1, failed: 0 } });
            send({ type: 'lease' });
          });
          assert.ok(honest.some((m) => m.type === 'lease'));
          assert.strictEqual(c.committed, 4, JSON.stringify(honest));
        });
      });
    });

    it('a worker with the token cannot count lines of a lease it does not hold, outside its lease, or a line twice', async () => {
      await hostile('batch coordinator: forged results', async () => {
        await withCoordinator(async (port, c) => {
          const line = (leaseId: unknown, index: unknown, y: unknown) => ({
            type: 'line',
            leaseId,
            line: { event: 'lineEnd', runId: 'x', index, status: 'Completed', durationMs: 1, output: { y } },
          });
          const got = await talk(
            port,
            [{ type: 'hello', token: 'the-token', worker: 'w', version: 1 }, { type: 'lease' }],
            3000,
            (msgs, send) => {
              const last = msgs[msgs.length - 1];
              if (last.type !== 'lease') return;
              // the first lease holds lines 0 and 1 (4 lines, 2 workers expected): forge around it
              for (const m of [line('L999', 0, 'forged'), line(last.leaseId, 5, 'out of range'), line(last.leaseId, -1, 'negative')])
                send(m);
              send(line(last.leaseId, 0, 'first'));
              send(line(last.leaseId, 0, 'again'));
            },
          );
          assert.ok(got.some((m) => m.type === 'lease'));
          assert.strictEqual(c.committed, 1);
        });
      });
    });
  });
});
