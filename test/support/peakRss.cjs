// Loaded into a CLI process with NODE_OPTIONS=--require: prints the process's peak resident memory as it exits.
process.on('exit', () => {
  process.stderr.write(`flowsession-peak-rss-kb ${process.resourceUsage().maxRSS}\n`);
});
