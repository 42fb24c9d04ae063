import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Writes a flow folder from a map of relative paths to contents, in a fresh temp folder. */
export function makeFlow(files: Record<string, string>, prefix = 'flowsession-flow-'): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
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
