// Loaded into a CLI process with NODE_OPTIONS=--require: prints the process's peak resident memory as it exits.
//
// Linux's getrusage maxRSS (process.resourceUsage().maxRSS) is not the process's own: a spawned child starts as a
// fork of its parent, and exec carries the fork's resident size into the child's maxRSS, so a CLI started by a test
// process that grew to 100 MB reports 100 MB whatever it used itself. VmHWM is the peak of the process's own memory
// since exec; elsewhere maxRSS is all there is.
const fs = require('fs');

function peakKb() {
  try {
    const m = /^VmHWM:\s*(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // no procfs
  }
  return process.resourceUsage().maxRSS;
}

process.on('exit', () => {
  process.stderr.write(`flowsession-peak-rss-kb ${peakKb()}\n`);
});
