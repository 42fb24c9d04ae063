import * as path from 'path';
import { parseArgs } from 'util';
import { cliContainerOf, configureIncludeRoots, rootsFromList } from '../core/flow/includeScope';
import { createCoreServices, type CoreServices } from '../core/services';
import { runDoctor } from './doctor';
import { runChat } from './chatCommand';
import { runBatch, runRun, runValidate } from './flowCommands';
import { runShowMetrics } from './metricsCommand';
import { expandMultiValueFlags } from './multiValueFlags';
import { openEngines, parseEngineList, runMultiBatch } from './multiBatch';
import { CliOutput, EXIT, UsageError } from './output';
import { runSessionCommand } from './sessionCommands';
import { runWorkerBatchCommand } from './workerBatchCommand';
import { settingsFromEnv } from './settingsFromEnv';

export const USAGE = `Usage: flowsession <command> [options]

Commands:
  session up <flow-dir>                 create (if needed) and start the flow's session
  session status <flow-dir>             show the session's state
  session start|stop|restart <flow-dir>
  session reset <flow-dir>              recreate it with the flow's current environment
  session rm <flow-dir>                 delete the session
  session install <flow-dir> <pkg...>   pip install packages into the running session
  session install <flow-dir> --requirements
  session packages <flow-dir>           list installed packages and where they came from
  A flow is a folder with flow.dag.yaml or flow.flex.yaml (also .yml), one of those files, a .prompty file, or
  (run, batch) a flex entry module:function of a module in the current folder; its session is its folder's.

  validate <flow> [--static] [--connections f.yaml|dir ...]
                                        static checks, then the session's checks (started if needed);
                                        with --connections, node inputs naming other connections are errors
  run <flow> [--inputs k=v ...] [--inputs-file f.json] [--connections f.yaml|dir ...] [--variant '\${node.variant_id}' ...]
        [--init k=v | --init init.json] a flex class entry's __init__ arguments (connections by name)
        [--node <name>]                 run that node alone; inputs by name or reference (url=…, fetch.output=…),
                                        else the flow's defaults and the last run's upstream outputs
  batch <flow> --data f.jsonl [--column-mapping k='\${data.col}' ...] [--workers N] [--connections f.yaml|dir ...]
        [--variant '\${node.variant_id}' ...] [--init k=v | --init init.json]
        [--run <run id or folder>]      an evaluation batch: --column-mapping may read '\${run.outputs.x}', '\${run.inputs.x}'
        [--engines a,b]                 spread the lines over sessions on several engines (contexts or addresses)
        [--on swarm|kubernetes|containers --replicas N]
                                        run the lines on N workers an orchestrator starts; this process coordinates
                                        them over TLS: --registry <host[/path]> where the workers pull the image
                                        from (FLOWSESSION_REGISTRY), --coordinator-host <address the workers reach
                                        this machine at> (default 127.0.0.1), --listen <address>, --port <n>;
                                        kubernetes: --manifests <file> [--namespace ns] [--apply] (kubectl apply)
  run show-metrics <run id or folder>   the metrics the run logged (log_metric), as JSON
  chat <flow-dir> [--inputs k=v ...] [--connections f.yaml|dir ...] [--variant '\${node.variant_id}']
                                        chat with a chat flow: a message per line, the history kept turn by
                                        turn; the answer prints as it streams; ends at end of input, "exit", Ctrl-C
  doctor                                check the engine, its API version and cached images

Options:
  --docker-host <url>    engine address (else DOCKER_HOST, the Docker context, the default socket)
  --base-image <ref>     base image for new sessions (else FLOWSESSION_BASE_IMAGE, flow.dag.yaml, default)
  --json                 print one JSON document on stdout
  -h, --help             show this help

Includes: additional_includes and symlinks reach the session only inside the git repository that holds the flow
(else the current folder when it holds the flow, else the flow folder); FLOWSESSION_ALLOWED_INCLUDE_ROOTS lists more folders (separated by '${path.delimiter}').

Exit codes: 0 ok, 1 operation failed, 2 bad usage, 3 engine unreachable.`;

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: expandMultiValueFlags(argv),
      allowPositionals: true,
      strict: true,
      options: {
        'docker-host': { type: 'string' },
        'base-image': { type: 'string' },
        json: { type: 'boolean', default: false },
        requirements: { type: 'boolean', default: false },
        static: { type: 'boolean', default: false },
        inputs: { type: 'string', multiple: true },
        'inputs-file': { type: 'string' },
        data: { type: 'string' },
        'column-mapping': { type: 'string', multiple: true },
        workers: { type: 'string' },
        connections: { type: 'string', multiple: true },
        engines: { type: 'string' },
        on: { type: 'string' },
        replicas: { type: 'string' },
        registry: { type: 'string' },
        'coordinator-host': { type: 'string' },
        listen: { type: 'string' },
        port: { type: 'string' },
        manifests: { type: 'string' },
        namespace: { type: 'string' },
        apply: { type: 'boolean', default: false },
        variant: { type: 'string', multiple: true },
        run: { type: 'string' },
        node: { type: 'string' },
        init: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`flowsession: ${(e as Error).message}\nRun 'flowsession --help' for usage.\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const out = new CliOutput(!!values.json);
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const settings = settingsFromEnv(env, { dockerHost: values['docker-host'] });
  configureIncludeRoots({ containerOf: cliContainerOf(process.cwd()), extraRoots: rootsFromList(env.FLOWSESSION_ALLOWED_INCLUDE_ROOTS) });
  const baseImageOverride = values['base-image'] || env.FLOWSESSION_BASE_IMAGE || undefined;
  const log = env.FLOWSESSION_DEBUG ? (l: string) => out.progress(l) : undefined;
  let services: CoreServices | undefined;
  try {
    services = createCoreServices({ settings, baseImageOverride, log, env });
    const { engine, manager } = services;
    const [command, ...rest] = positionals;
    if (command === 'doctor') return await runDoctor(engine, out, baseImageOverride || settings.baseImage);
    if (!['validate', 'run', 'batch', 'chat', 'session'].includes(command)) throw new UsageError(`unknown command '${command}'`);
    if (command === 'run' && rest[0] === 'show-metrics') return await runShowMetrics(out, rest[1]);
    if (command !== 'session' && rest.length > 1) throw new UsageError(`unexpected argument '${rest[1]}': ${command} takes one flow`);
    if (command === 'batch' && values.engines !== undefined && values.on !== undefined)
      throw new UsageError('--engines and --on do not combine: sessions on named engines, or workers on an orchestrator');
    if (command === 'batch' && values.engines !== undefined) {
      const engines = openEngines(parseEngineList(values.engines), settings, env, baseImageOverride, log);
      return await runMultiBatch(engines, out, rest[0], values, { otlpEndpoint: settings.otlpEndpoint });
    }
    if (command === 'batch' && values.on !== undefined) return await runWorkerBatchCommand(services, settings, env, out, rest[0], values);
    // only static validation works without an engine
    if (!(command === 'validate' && values.static)) await engine.ping(5000);
    if (command === 'validate') return await runValidate(services.validator, out, rest[0], values);
    if (command === 'run') return await runRun(services.runs, out, rest[0], values);
    if (command === 'batch') return await runBatch(services.runs, out, rest[0], values);
    if (command === 'chat') return await runChat(services.runs, out, rest[0], values);
    return await runSessionCommand(manager, out, rest, { requirements: values.requirements });
  } catch (e) {
    return out.error(e);
  } finally {
    services?.dispose();
  }
}
