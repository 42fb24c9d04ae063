/**
 * Issue 11, point 3 against the real engine: `image` flow inputs (a path, a URL, a data URI, prompt flow's dict forms,
 * in a run and in a batch's data) reach python tools and the GPT-4V tool as prompt flow's Image type, the GPT-4V tool
 * sends them as image_url parts, and images in results are stored as files of the run, referred to by path.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { readConnectionsFile } from '../../src/core/runs/connectionsFile';
import type { RunService } from '../../src/core/runs/runService';
import type { SessionManager } from '../../src/core/session/sessionManager';
import { json, runCli } from '../support/cli';
import { FlowJar } from '../support/flows/flowJar';
import { startOpenAiStub, STUB_PNG, stubConnectionsYaml, type OpenAiStub } from '../support/openaiStub';
import { testServices } from '../support/world/manager';

const SECRET = 'sk-test-images-5e6f7a';
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(8), Buffer.from('flow picture')]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('data picture')]);

const IMAGE_FLOW = {
  'flow.dag.yaml': `inputs:
  picture:
    type: image
    default: pic.png
outputs:
  seen:
    type: object
    reference: \${look.output}
  mirrored:
    type: object
    reference: \${mirror.output}
  described:
    type: string
    reference: \${vision.output}
nodes:
- name: look
  type: python
  source: {type: code, path: look.py}
  inputs:
    img: \${inputs.picture}
- name: mirror
  type: python
  source: {type: code, path: mirror.py}
  inputs:
    img: \${inputs.picture}
- name: measure
  type: python
  source: {type: code, path: look.py}
  inputs:
    img: \${mirror.output.reversed}
- name: vision
  type: custom_llm
  source:
    type: package_with_prompt
    tool: promptflow.tools.openai_gpt4v.OpenAI.chat
    path: vision.jinja2
  inputs:
    connection: oai
    model: gpt-4o
    max_tokens: 32
    picture: \${inputs.picture}
`,
  'look.py': `from promptflow import tool
from promptflow.contracts.multimedia import Image


@tool
def look(img: Image) -> dict:
    return {"type": type(img).__module__ + "." + type(img).__name__, "mime": img._mime_type, "size": len(img)}
`,
  'mirror.py': `from promptflow import tool
from promptflow.contracts.multimedia import Image


@tool
def mirror(img: Image) -> dict:
    return {"original": img, "reversed": Image(bytes(img)[::-1], mime_type="image/png")}
`,
  'vision.jinja2': '# user:\nWhat is in this picture?\n![image]({{ picture }})\n',
};

interface ImageRef {
  [key: string]: string;
}

describe('image inputs and outputs', function () {
  this.timeout(300_000);
  let stub: OpenAiStub;
  let manager: SessionManager;
  let runs: RunService;
  let connectionsFile: string;
  const jar = new FlowJar({ prefix: 'flowsession-images-' });
  let flowDir: string;

  before(async () => {
    stub = await startOpenAiStub(SECRET);
    ({ manager, runs } = testServices());
    flowDir = jar.make(IMAGE_FLOW);
    fs.writeFileSync(path.join(flowDir, 'pic.png'), PNG);
    connectionsFile = path.join(jar.make({}), 'connections.yaml');
    fs.writeFileSync(connectionsFile, stubConnectionsYaml(stub.url));
  });

  after(async () => {
    await jar.dispose([manager]);
    manager.dispose();
    await stub.close();
  });

  /** The bytes of an image a result refers to by path, relative to `from`. */
  function imageAt(ref: unknown, from: string): { mime: string; bytes: Buffer } {
    const [key, rel] = Object.entries(ref as ImageRef)[0];
    const m = /^data:(image\/[^;]+);path$/.exec(key);
    assert.ok(m, `an image path reference: ${JSON.stringify(ref)}`);
    return { mime: m[1], bytes: fs.readFileSync(path.resolve(from, rel)) };
  }

  it('runs from the CLI with a path input: tools get Image, GPT-4V gets an image_url part, outputs are image files', async () => {
    const r = await runCli(['run', flowDir, '--connections', connectionsFile, '--json'], { TEST_LLM_KEY: SECRET });
    assert.strictEqual(r.code, 0, r.stderr);
    const outputs = json<{ outputs: { seen: unknown; mirrored: Record<string, unknown>; described: string } }>(r).outputs;
    assert.deepStrictEqual(outputs.seen, { type: 'promptflow.contracts.multimedia.Image', mime: 'image/png', size: PNG.length });

    const req = stub.requests[stub.requests.length - 1];
    const parts = (req.body.messages as { content: unknown }[])[0].content;
    assert.deepStrictEqual(parts, [
      { type: 'text', text: 'What is in this picture?' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG.toString('base64')}`, detail: 'auto' } },
    ]);
    assert.match(outputs.described, /^echo: /);

    // flow.output.json refers to the run's images from .promptflow/, the run's own copy from its folder
    const latest = JSON.parse(fs.readFileSync(path.join(flowDir, '.promptflow', 'flow.output.json'), 'utf8'));
    const original = imageAt(latest.mirrored.original, path.join(flowDir, '.promptflow'));
    assert.deepStrictEqual(original, { mime: 'image/png', bytes: PNG });
    assert.deepStrictEqual(imageAt(latest.mirrored.reversed, path.join(flowDir, '.promptflow')).bytes, Buffer.from(PNG).reverse());
    const runDir = path.dirname(path.dirname(path.resolve(flowDir, '.promptflow', Object.values(latest.mirrored.original as ImageRef)[0])));
    const own = JSON.parse(fs.readFileSync(path.join(runDir, 'flow.output.json'), 'utf8'));
    assert.deepStrictEqual(imageAt(own.mirrored.original, runDir).bytes, PNG);
    assert.deepStrictEqual(imageAt(outputs.mirrored.original, flowDir).bytes, PNG, 'the printed outputs refer from the flow folder');
    const detail = fs.readFileSync(path.join(flowDir, '.promptflow', 'flow.detail.json'), 'utf8');
    // (the stub's echo of the request holds the image as the GPT-4V tool sent it, a data URI; no value is an image)
    assert.ok(!detail.includes('"data:image/png;base64"'), 'no image value is inlined in flow.detail.json');
    assert.match(detail, /"img": \{\n\s+"data:image\/png;path": "runs\/[^"]+\/images\/[0-9a-f]{32}\.png"/);
    assert.ok(!detail.includes(SECRET));
  });

  it("runs one node on the latest run's image output (--node): the stored image goes back as an image", async () => {
    const r = await runCli(['run', flowDir, '--node', 'measure', '--json'], {});
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ output: unknown }>(r).output, {
      type: 'promptflow.contracts.multimedia.Image',
      mime: 'image/png',
      size: PNG.length,
    });
  });

  it('takes a URL, a data URI and the dict forms in a run', async () => {
    const connections = readConnectionsFile(connectionsFile, { TEST_LLM_KEY: SECRET });
    const forms: [string, unknown, Buffer][] = [
      ['url', `${stub.url}/images/cat.png`, STUB_PNG],
      ['data uri', `data:image/png;base64,${PNG.toString('base64')}`, PNG],
      ['path dict', { 'data:image/png;path': 'pic.png' }, PNG],
      ['url dict', { 'data:image/png;url': `${stub.url}/images/dog.png` }, STUB_PNG],
    ];
    for (const [what, picture, bytes] of forms) {
      const record = await runs.run(flowDir, { inputs: { picture }, connections });
      assert.strictEqual(record.status, 'Completed', `${what}: ${JSON.stringify(record.error)}`);
      assert.deepStrictEqual(
        (record.outputs as { seen: unknown }).seen,
        { type: 'promptflow.contracts.multimedia.Image', mime: 'image/png', size: bytes.length },
        what,
      );
    }
  });

  it('reads images named by a batch data file outside the flow folder, relative to that file', async () => {
    const dataDir = jar.make({ 'shots/a.jpg': '' });
    fs.writeFileSync(path.join(dataDir, 'shots', 'a.jpg'), JPEG);
    const dataFile = path.join(dataDir, 'data.jsonl');
    fs.writeFileSync(
      dataFile,
      [
        { image: { 'data:image/jpeg;path': 'shots/a.jpg' } },
        { image: 'shots/a.jpg' },
        { image: `${stub.url}/images/x.png` },
        { image: { 'data:image/png;path': '../outside.png' } },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    );
    const result = await runs.batch(flowDir, {
      dataFile,
      columnMapping: { picture: '${data.image}' },
      connections: readConnectionsFile(connectionsFile, { TEST_LLM_KEY: SECRET }),
    });
    assert.strictEqual(result.total, 4);
    assert.strictEqual(result.failed, 1, result.summary);
    const lines = fs
      .readFileSync(result.outputFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const runDir = path.dirname(result.outputFile);
    assert.deepStrictEqual(
      lines.slice(0, 3).map((l) => l.seen),
      [
        { type: 'promptflow.contracts.multimedia.Image', mime: 'image/jpeg', size: JPEG.length },
        { type: 'promptflow.contracts.multimedia.Image', mime: 'image/jpeg', size: JPEG.length },
        { type: 'promptflow.contracts.multimedia.Image', mime: 'image/png', size: STUB_PNG.length },
      ],
    );
    assert.deepStrictEqual(imageAt(lines[0].mirrored.original, runDir), { mime: 'image/jpeg', bytes: JPEG });
    assert.deepStrictEqual(lines[2].mirrored.original, { 'data:image/png;url': `${stub.url}/images/x.png` });
    assert.match(JSON.stringify(lines[3].error), /Failed to load image for input 'picture'/);
  });
});
