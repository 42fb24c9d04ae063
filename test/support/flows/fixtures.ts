/** Flow folders for tests, and the flows they hold. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { askPrompty } from './flexFixtures';

/** flow folders made in this process and not removed yet: they go when it exits (a batch's run folder can be 100 MB) */
const made = new Set<string>();
process.once('exit', () => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** Removes a folder makeFlow made (and what runs wrote into it) now. */
export function removeFlow(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  made.delete(dir);
}

/** Writes a flow folder from a map of relative paths to contents, in a fresh temp folder, removed when the process exits. */
export function makeFlow(files: Record<string, string>, prefix = 'flowsession-flow-'): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  made.add(dir);
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return dir;
}

export const HELLO_FLOW = {
  'flow.dag.yaml': `inputs:
  name:
    type: string
    default: World
outputs:
  greeting:
    type: string
    reference: \${hello.output}
nodes:
- name: hello
  type: python
  source:
    type: code
    path: hello.py
  inputs:
    name: \${inputs.name}
`,
  'hello.py': `from promptflow import tool


@tool
def hello(name: str) -> str:
    return "Hello, " + name
`,
};

/** One python node running `code` (the body of `def work(n: int) -> str`). */
export function toolFlow(code: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'flow.dag.yaml': `inputs:
  n:
    type: int
    default: 1
outputs:
  out:
    type: string
    reference: \${work.output}
nodes:
- name: work
  type: python
  source: {type: code, path: work.py}
  inputs:
    n: \${inputs.n}
`,
    'work.py': `from promptflow import tool


@tool
def work(n: int) -> str:
${code
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`,
    ...extra,
  };
}

export const SLEEPY_FLOW = toolFlow('import time\nprint("sleeping", n)\ntime.sleep(n)\nreturn "slept %d" % n');

/**
 * A flow whose `work` node sleeps `delayMs` per line, with an aggregation node summing the lines. With `gate`, each
 * line first waits on `<gate>/line/<x>` (see support/lineGate): a test holds lines until another one has started.
 */
export const SLOW_FLOW = (delayMs: number, gate?: string) => ({
  'flow.dag.yaml': `inputs:
  x:
    type: int
outputs:
  y:
    type: int
    reference: \${work.output}
nodes:
- name: work
  type: python
  source: {type: code, path: work.py}
  inputs:
    x: \${inputs.x}
- name: total
  type: python
  source: {type: code, path: total.py}
  inputs:
    values: \${work.output}
  aggregation: true
`,
  'work.py': `import time
from promptflow import tool


@tool
def work(x: int) -> int:
${
  gate
    ? `    import urllib.request
    urllib.request.urlopen("${gate}/line/%d" % x, timeout=300).read()
`
    : ''
}    time.sleep(${delayMs / 1000})
    return x * 2
`,
  'total.py': `from promptflow import tool


@tool
def total(values: list) -> dict:
    return {"sum": sum(values), "count": len(values)}
`,
});

/** Writes `n` data lines ({x: i}) beside the flow folder, not inside it; returns the file. */
export function writeData(dir: string, n: number): string {
  const file = path.join(dir, '..', `${path.basename(dir)}-data.jsonl`);
  fs.writeFileSync(file, Array.from({ length: n }, (_v, i) => JSON.stringify({ x: i })).join('\n') + '\n');
  return file;
}

/**
 * flow.dag.yaml of a chat flow, as prompt flow's chat samples shape it: `question` the chat input, `chat_history`
 * the history, `style` one more input with a default, `answer` the chat output reading node `chat`; `nodes` is
 * the YAML of the node list.
 */
export function chatFlowYaml(nodes: string): string {
  return `inputs:
  chat_history:
    type: list
    is_chat_history: true
    default: []
  question:
    type: string
    is_chat_input: true
    default: What is a session?
  style:
    type: string
    default: brief
outputs:
  answer:
    type: string
    reference: \${chat.output}
    is_chat_output: true
nodes:
${nodes}`;
}

/** flow.dag.yaml of a one-node flow: `double` (double.py) turns the int input `value` into the output `doubled`. */
export function doubleFlowYaml(beforeNodes = ''): string {
  return `inputs:
  value:
    type: int
    default: 3
outputs:
  doubled:
    type: int
    reference: \${double.output}
${beforeNodes}nodes:
- name: double
  type: python
  source: {type: code, path: double.py}
  inputs:
    value: \${inputs.value}
`;
}

/** A one-node llm flow (`ask`, the `question` input, the `answer` output) calling `deployment` over `connection`. */
export function llmFlow(deployment: string, connection = 'aoai', api = 'chat'): Record<string, string> {
  return {
    'flow.dag.yaml': `inputs:
  question:
    type: string
    default: What is a session?
outputs:
  answer:
    type: string
    reference: \${ask.output}
nodes:
- name: ask
  type: llm
  source: {type: code, path: ask.jinja2}
  connection: ${connection}
  api: ${api}
  inputs:
    deployment_name: ${deployment}
    model: ${deployment}
    temperature: 0
    question: \${inputs.question}
`,
    'ask.jinja2': api === 'chat' ? '# system:\nYou answer briefly.\n\n# user:\n{{question}}\n' : 'Q: {{question}}\nA:',
  };
}

/** A prompty (`Ask`, model gpt-test) talking to the stub: an OpenAI configuration, its key from the environment variable `keyEnv`. */
export function stubPrompty(
  url: string,
  extra = '',
  params = '  parameters:\n    max_tokens: 64\n    temperature: 0\n',
  keyEnv = 'PROMPTY_TEST_KEY',
): string {
  return askPrompty(url, keyEnv, {
    model: params,
    after: `${extra}sample:\n  question: What is a session?\n`,
    system: 'You answer briefly.',
  });
}
