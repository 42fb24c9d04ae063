import { main } from './cli/main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // open engine sockets (event streams, keep-alive agents) must not keep the CLI alive
    setTimeout(() => process.exit(code), 50).unref();
  },
  (e) => {
    process.stderr.write(`flowsession: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
