/**
 * Flows shaped like prompt flow's own examples (written here, not copied): the way their folders, requirements,
 * connections and data are laid out, run through the CLI as a user runs them.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import { json, runCli } from '../support/cli';
import { FlowJar } from '../support/flows/flowJar';
import { startStubWithConnections, type OpenAiStub } from '../support/openaiStub';
import { testServices } from '../support/world/manager';
import type { SessionManager } from '../../src/core/session/sessionManager';

const KEY = 'sk-shapes-51c0e8';

describe("flows shaped like prompt flow's examples", function () {
  let stub: OpenAiStub;
  let manager: SessionManager;
  let connectionsFile: string;
  const jar = new FlowJar();

  before(async () => {
    ({ stub, connectionsFile } = await startStubWithConnections(KEY, jar));
    ({ manager } = testServices());
  });

  after(async () => {
    await jar.dispose([manager]);
    manager.dispose();
    await stub.close();
  });

  it("starts a session whose requirements.txt lists prompt flow's own packages the index does not have, using the runtime's API", async () => {
    const dir = jar.make({
      'flow.flex.yaml':
        'entry: answer:Answerer\nsample:\n  inputs:\n    question: What is a session?\n  init:\n    model_config:\n' +
        '      connection: aoai\n      azure_deployment: shapes-model\nenvironment:\n  python_requirements_txt: requirements.txt\n',
      'requirements.txt': '--extra-index-url https://packages.invalid/simple/\npromptflow[azure]>=1.10.0\npromptflow-tools\n',
      'answer.py':
        'from dataclasses import dataclass\nfrom pathlib import Path\nfrom promptflow.core import AzureOpenAIModelConfiguration, Prompty\n' +
        'from promptflow.tracing import trace\n\n\n@dataclass\nclass Reply:\n    answer: str\n\n\nclass Answerer:\n' +
        '    def __init__(self, model_config: AzureOpenAIModelConfiguration):\n        self.model_config = model_config\n\n' +
        '    @trace\n    def __call__(self, question: str) -> Reply:\n' +
        '        p = Prompty.load(source=Path(__file__).parent / "ask.prompty", model={"configuration": self.model_config})\n' +
        '        return Reply(answer=p(question=question))\n',
      'ask.prompty':
        '---\nname: ask\nmodel:\n  api: chat\n  configuration:\n    type: azure_openai\n    azure_deployment: other\n' +
        'inputs:\n  question:\n    type: string\n---\nsystem:\nBe brief.\n\nuser:\n{{question}}\n',
    });
    const r = await runCli(['run', dir, '--connections', connectionsFile, '--json'], { TEST_LLM_KEY: KEY });
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(r).outputs, { answer: 'echo: What is a session?' });
    assert.match(r.stderr, /promptflow, promptflow-tools cannot be installed from the package index; the session uses the runtime's/);
    assert.strictEqual(stub.requests.at(-1)?.path, '/openai/deployments/shapes-model/chat/completions?api-version=2024-02-01');
  });

  it("fails the session with pip's message when a package other than prompt flow's cannot be found", async () => {
    const dir = jar.make({
      'flow.flex.yaml': 'entry: main:run\nenvironment:\n  python_requirements_txt: requirements.txt\n',
      'requirements.txt': 'promptflow\nno-such-package-shapes\n',
      'main.py': 'def run(text: str) -> str:\n    return text\n',
    });
    const r = await runCli(['validate', dir]);
    assert.strictEqual(r.code, 1, r.stdout);
    assert.match(r.stderr, /Installing the requirements failed:[\s\S]*No matching distribution found for no-such-package-shapes/);
    assert.match(r.stderr, /Fix requirements.txt or the pip settings/);
  });

  it("takes prompt flow's spelling of several mappings after one --column-mapping in an evaluation batch with --run", async () => {
    const base = jar.make({
      'flow.dag.yaml':
        'inputs:\n  text:\n    type: string\noutputs:\n  label:\n    type: string\n    reference: ${classify.output}\n' +
        'nodes:\n- name: classify\n  type: python\n  source:\n    type: code\n    path: classify.py\n  inputs:\n    text: ${inputs.text}\n',
      'classify.py':
        'from promptflow.core import tool\n\n\n@tool\ndef classify(text: str) -> str:\n    return "long" if len(text) > 3 else "short"\n',
      'data.jsonl':
        '{"text": "hello", "truth": "long"}\n{"text": "hi", "truth": "long"}\n{"text": "hey", "truth": "short"}\n{"text": "howdy", "truth": "long"}\n',
    });
    const evaluation = jar.make({
      'flow.dag.yaml':
        'inputs:\n  groundtruth:\n    type: string\n    default: X\n  prediction:\n    type: string\n    default: X\n' +
        'outputs:\n  grade:\n    type: string\n    reference: ${grade.output}\nnodes:\n- name: grade\n  type: python\n' +
        '  source:\n    type: code\n    path: grade.py\n  inputs:\n    groundtruth: ${inputs.groundtruth}\n    prediction: ${inputs.prediction}\n' +
        '- name: accuracy\n  type: python\n  source:\n    type: code\n    path: accuracy.py\n  inputs:\n    grades: ${grade.output}\n  aggregation: true\n',
      'grade.py':
        'from promptflow.core import tool\n\n\n@tool\ndef grade(groundtruth: str, prediction: str) -> str:\n    return "ok" if groundtruth == prediction else "wrong"\n',
      'accuracy.py':
        'from typing import List\nfrom promptflow.core import log_metric, tool\n\n\n@tool\ndef accuracy(grades: List[str]):\n' +
        '    log_metric("accuracy", round(grades.count("ok") / len(grades), 2))\n    return grades\n',
    });
    const data = `${base}/data.jsonl`;
    const first = await runCli(['batch', base, '--data', data, '--column-mapping', 'text=${data.text}', '--json']);
    assert.strictEqual(first.code, 0, first.stderr);
    const runId = json<{ runId: string }>(first).runId;
    // as `pf run create --column-mapping groundtruth='${data.truth}' prediction='${run.outputs.label}'` spells it
    const r = await runCli([
      'batch',
      evaluation,
      '--data',
      data,
      '--run',
      `${base}/.promptflow/runs/${runId}`,
      '--column-mapping',
      'groundtruth=${data.truth}',
      'prediction=${run.outputs.label}',
      '--json',
    ]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ metrics: unknown }>(r).metrics, { accuracy: 0.75 });
    // a value the CLI would otherwise drop is refused
    const stray = await runCli(['run', evaluation, 'prediction=${run.outputs.label}']);
    assert.strictEqual(stray.code, 2);
    assert.match(stray.stderr, /unexpected argument 'prediction=\$\{run.outputs.label\}': run takes one flow/);
  });

  it('runs a function entry that loads its keys with load_dotenv() and a prompty reading them, without python-dotenv', async () => {
    const dir = jar.make({
      'flow.flex.yaml': 'entry: flow:chat\nsample:\n  inputs:\n    question: What is a shape?\n',
      '.env': `SHAPES_DOTENV_KEY=${KEY}\nSHAPES_DOTENV_BASE="${stub.url}"\n`,
      'flow.py':
        'import os\nfrom pathlib import Path\nfrom dotenv import load_dotenv\nfrom promptflow.core import Prompty\nfrom promptflow.tracing import trace\n\n\n' +
        '@trace\ndef chat(question: str = "What?") -> str:\n    if "SHAPES_DOTENV_KEY" not in os.environ:\n        load_dotenv()\n' +
        '    return Prompty.load(source=Path(__file__).parent / "chat.prompty")(question=question)\n',
      'chat.prompty':
        '---\nname: chat\nmodel:\n  api: chat\n  configuration:\n    type: azure_openai\n    azure_deployment: dotenv-model\n' +
        '    api_key: ${env:SHAPES_DOTENV_KEY}\n    azure_endpoint: ${env:SHAPES_DOTENV_BASE}\ninputs:\n  question:\n    type: string\n' +
        '---\nsystem:\nBe brief.\n\nuser:\n{{question}}\n',
    });
    const r = await runCli(['run', dir, '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(r).outputs, { output: 'echo: What is a shape?' });
    assert.match(stub.requests.at(-1)?.path ?? '', /^\/openai\/deployments\/dotenv-model\/chat\/completions/);
  });

  it('runs and batches a flex entry given as module:function from its folder, as `pf flow test --flow programmer:write`', async () => {
    const dir = jar.make({
      'programmer.py':
        'from typing import TypedDict\n\n\nclass Result(TypedDict):\n    output: str\n\n\n' +
        'def write(text: str = "Hello", times: int = 1) -> Result:\n    return Result(output=text * times)\n',
      'data.jsonl': '{"text": "a"}\n{"text": "bc"}\n',
    });
    const r = await runCli(['run', 'programmer:write', '--inputs', 'text=Java ', 'times=2', '--json'], {}, undefined, dir);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(json<{ outputs: unknown }>(r).outputs, { output: 'Java Java ' });
    const b = await runCli(
      ['batch', 'programmer:write', '--data', 'data.jsonl', '--column-mapping', 'text=${data.text}', '--json'],
      {},
      undefined,
      dir,
    );
    assert.strictEqual(b.code, 0, b.stderr);
    const lines = fs
      .readFileSync(json<{ output: string }>(b).output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).output);
    assert.deepStrictEqual(lines, ['a', 'bc']);
    const validate = await runCli(['validate', 'programmer:write', '--static'], {}, undefined, dir);
    assert.strictEqual(validate.code, 2);
    assert.match(validate.stderr, /validate takes a flow folder or file, not the entry programmer:write/);
    const missing = await runCli(['run', 'nomodule:write'], {}, undefined, dir);
    assert.strictEqual(missing.code, 1);
    assert.match(missing.stderr, /neither a path nor the entry of a module in .* \(nomodule\.py\)/);
  });
});
