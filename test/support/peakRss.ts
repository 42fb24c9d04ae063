import * as path from 'path';

/** The environment that makes a CLI process report its peak resident memory on exit. */
export function peakRssEnv(): Record<string, string> {
  const hook = path.resolve(__dirname, 'peakRss.cjs');
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${hook}`.trim() };
}

/** The peak resident memory (MB) a CLI process run with peakRssEnv() reported in its stderr. */
export function peakRssMb(stderr: string): number {
  const m = /flowsession-peak-rss-kb (\d+)/.exec(stderr);
  if (!m) throw new Error(`no peak memory report in: ${stderr.slice(-500)}`);
  return Number(m[1]) / 1024;
}
