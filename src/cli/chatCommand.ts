import * as readline from 'readline';
import { answerText, chatShape, historyItem, turnInputs, type ChatTurn } from '../core/chat/chatFlow';
import { analyzeFlowDir } from '../core/flow/staticChecks';
import { resolveFlowDir } from '../core/flow/environment';
import { readConnections } from '../core/runs/connectionsFile';
import type { RunService } from '../core/runs/runService';
import { FlowSessionError } from '../core/errors';
import { progressTo, typedInputs, variantFlag, type FlowFlags } from './flowCommands';
import { type CliOutput, EXIT, UsageError } from './output';
import { StreamPrinter } from './streamPrinter';

/** The line that ends a chat, as `pf flow test --interactive` takes it. */
const EXIT_LINE = 'exit';

export interface ChatIo {
  input: NodeJS.ReadableStream;
  /** prompts go here when the input is a terminal */
  interactive: boolean;
}

/**
 * `flowsession chat <flow-dir> [--inputs k=v …] [--connections f.yaml] [--variant …]`: reads a message per line,
 * runs the flow in its session with it as the chat input and the turns so far as the chat history, and prints the
 * answer (as it streams, when the chat output streams). Ends at end of input, an `exit` line or Ctrl-C, which
 * also cancels a turn under way; the session stays up, as after `run`.
 */
export async function runChat(
  runs: RunService,
  out: CliOutput,
  flowDir: string | undefined,
  flags: FlowFlags,
  io: ChatIo = { input: process.stdin, interactive: !!process.stdin.isTTY },
): Promise<number> {
  if (!flowDir) throw new UsageError('chat needs a flow folder');
  if (out.json) throw new UsageError('chat is interactive and prints text; use run --json for one turn as JSON');
  const dir = resolveFlowDir(flowDir);
  const analysis = await analyzeFlowDir(dir);
  const problem = analysis.parsed.problems[0];
  if (problem || analysis.parsed.value === undefined)
    throw new FlowSessionError(
      'flow-definition-error',
      `flow.dag.yaml: ${problem?.message ?? 'could not be read'}`,
      'Fix flow.dag.yaml and try again.',
    );
  const shape = chatShape(analysis.parsed.value);
  const others = await typedInputs(dir, flags.inputs);
  for (const name of [shape.input, shape.history])
    if (name in others) throw new UsageError(`--inputs ${name}: the chat sets this input itself`);
  const connections = readConnections(flags.connections ?? []);
  const variant = variantFlag(flags);
  const history: ChatTurn[] = [];

  const rl = readline.createInterface({ input: io.input, terminal: false, crlfDelay: Infinity });
  let turn: AbortController | undefined;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    turn?.abort();
    rl.close();
  };
  process.on('SIGINT', onSigint);
  const prompt = () => {
    if (io.interactive) out.progress(`${shape.input}:`);
  };
  try {
    if (io.interactive) out.progress(`Chatting with ${dir}. Ctrl-C or "${EXIT_LINE}" ends the chat.`);
    prompt();
    for await (const line of rl) {
      const message = line.replace(/\r$/, '');
      if (message.trim() === EXIT_LINE) break;
      if (message.trim() === '') {
        prompt();
        continue;
      }
      turn = new AbortController();
      const inputs = turnInputs(shape, others, message, history);
      const stream = new StreamPrinter((t) => out.stream(t));
      const record = await runs.run(dir, {
        inputs,
        connections,
        variant,
        signal: turn.signal,
        onProgress: progressTo(out),
        onEvent: (e) => {
          // only the chat output's stream is the answer; node prints go to stderr as run shows them
          if (e.event === 'outputStream') {
            if (shape.output === undefined || e.outputs.includes(shape.output)) stream.event(e);
          } else if (e.event === 'nodeLog') {
            for (const l of e.text.trimEnd().split('\n')) out.progress(`[${e.node}] ${l}`);
          }
        },
      });
      turn = undefined;
      if (record.status === 'Canceled' || interrupted) {
        stream.finish();
        break;
      }
      if (record.status !== 'Completed') {
        stream.finish();
        const where = record.error?.node ? ` in node '${record.error.node}'` : '';
        out.progress(`Turn failed${where}: ${record.error?.code ?? ''} ${record.error?.message ?? ''}`.trim());
        out.progress('The turn is not added to the history; send another message or end the chat.');
        prompt();
        continue;
      }
      if (stream.wrote) stream.finish();
      else out.stream(`${answerText(shape, record.outputs)}\n`);
      history.push(historyItem(shape, inputs, record.outputs ?? {}));
      prompt();
    }
  } finally {
    process.off('SIGINT', onSigint);
    rl.close();
  }
  return EXIT.ok;
}
