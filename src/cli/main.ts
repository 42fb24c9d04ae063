import { parseArgs } from 'util';
import { resolveEndpoint } from '../core/docker/connection';
import { DockerEngine } from '../core/docker/dockerEngine';
import { SessionManager } from '../core/session/sessionManager';
import { runDoctor } from './doctor';
import { CliOutput, EXIT, UsageError } from './output';
import { runSessionCommand } from './sessionCommands';
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
  doctor                                check the engine, its API version and cached images

Options:
  --docker-host <url>    engine address (else DOCKER_HOST, the Docker context, the default socket)
  --base-image <ref>     base image for new sessions (else FLOWSESSION_BASE_IMAGE, flow.dag.yaml, default)
  --json                 print one JSON document on stdout
  -h, --help             show this help

Exit codes: 0 ok, 1 operation failed, 2 bad usage, 3 engine unreachable.`;

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'docker-host': { type: 'string' },
        'base-image': { type: 'string' },
        json: { type: 'boolean', default: false },
        requirements: { type: 'boolean', default: false },
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
  const baseImageOverride = values['base-image'] || env.FLOWSESSION_BASE_IMAGE || undefined;
  let manager: SessionManager | undefined;
  try {
    const engine = new DockerEngine(resolveEndpoint({ dockerHost: settings.dockerHost, env }));
    const [command, ...rest] = positionals;
    switch (command) {
      case 'doctor':
        return await runDoctor(engine, out, baseImageOverride || settings.baseImage);
      case 'session':
        await engine.ping(5000);
        manager = new SessionManager({ engine, settings, baseImageOverride, log: env.FLOWSESSION_DEBUG ? (l) => out.progress(l) : undefined });
        return await runSessionCommand(manager, out, rest, { requirements: values.requirements });
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    return out.error(e);
  } finally {
    manager?.dispose();
  }
}
