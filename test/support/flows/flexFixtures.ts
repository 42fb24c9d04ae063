/**
 * Flex flows and prompty files the flex and prompty tests share: a class entry with a connection in its `__init__`
 * and an `__aggregate__`, the CLI batch of it, and a prompty asking an OpenAI-compatible endpoint.
 */
import * as fs from 'fs';
import * as path from 'path';

/**
 * A class entry: `__init__(conn, weight)`, a dataclass result per word (a word starting with "boom" fails its line),
 * `__aggregate__` summing the scores. When GATE is set, each line first waits on that URL (see support/lineGate).
 */
export const SCORER_PY = `import os
import urllib.parse
import urllib.request
from dataclasses import dataclass
from promptflow.connections import AzureOpenAIConnection

@dataclass
class Result:
    score: int
    base_ok: bool

class Scorer:
    def __init__(self, conn: AzureOpenAIConnection, weight: int = 1):
        self.conn = conn
        self.weight = weight
        print("init once")

    def __call__(self, word: str) -> Result:
        if os.environ.get("GATE"):
            urllib.request.urlopen(os.environ["GATE"] + "/line/" + urllib.parse.quote(word), timeout=300).read()
        if word.startswith("boom"):
            raise ValueError("no boom words")
        return Result(score=len(word) * self.weight, base_ok=os.environ["STUB_BASE"] == self.conn.api_base)

    def __aggregate__(self, results):
        return {"total": sum(r.score for r in results), "lines": len(results)}
`;

/** The scorer as a flex flow folder's files, its words as data.jsonl; `env` adds environment_variables. */
export function scorerFlow(words: string[], env: Record<string, string> = {}): Record<string, string> {
  const vars = Object.entries({ STUB_BASE: '${aoai.api_base}', ...env })
    .map(([k, v]) => `  ${k}: ${v}\n`)
    .join('');
  return {
    'flow.flex.yml': `entry: scorer:Scorer\nenvironment_variables:\n${vars}`,
    'scorer.py': SCORER_PY,
    'data.jsonl': words.map((w) => JSON.stringify({ w })).join('\n') + '\n',
  };
}

/** `flowsession batch` of the scorer: its data, `word` mapped, `--init conn=aoai weight=10`, the connections file. */
export function scorerBatchArgs(dir: string, connectionsFile: string): string[] {
  const data = path.join(dir, 'data.jsonl');
  return [
    'batch',
    dir,
    '--data',
    data,
    '--column-mapping',
    'word=${data.w}',
    '--init',
    'conn=aoai',
    '--init',
    'weight=10',
    '--connections',
    connectionsFile,
  ];
}

/**
 * A prompty asking `baseUrl` (the stub's, or a gate's in front of it) its `question`, the key from `${env:<keyVar>}`;
 * `model` adds lines under `model:` (parameters, response), `after` lines after `inputs`, `system` a system message.
 */
export function askPrompty(baseUrl: string, keyVar: string, more: { model?: string; after?: string; system?: string } = {}): string {
  return `---
name: Ask
model:
  api: chat
  configuration:
    type: openai
    model: gpt-test
    api_key: \${env:${keyVar}}
    base_url: ${baseUrl}/v1
${more.model ?? ''}inputs:
  question:
    type: string
${more.after ?? ''}---
${more.system ? `system:\n${more.system}\n\n` : ''}user:
{{question}}
`;
}

/** The rows of a batch's output.jsonl. */
export function outputRows(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
