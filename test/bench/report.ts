/** Sessions in the bench get the extension's default limits (the tests use smaller ones). */
export const BENCH_SETTINGS = { FLOWSESSION_CPUS: '2', FLOWSESSION_MEMORY_MB: '4096' };

/** One figure of `npm run bench`: a measured value against a baseline measured in the same run. */
export interface Metric {
  name: string;
  value_ms: number;
  baseline_ms: number;
  /** value / baseline for times; baseline / value for throughput (speed-up) */
  ratio: number;
  /** e.g. "<= 1.3" or ">= 6" */
  goal: string;
  note?: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

export function meets(m: Metric): boolean {
  const [op, n] = m.goal.split(/\s+/);
  return op === '<=' ? m.ratio <= Number(n) : m.ratio >= Number(n);
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export function printReport(metrics: Metric[], asJson: boolean): void {
  if (asJson) {
    const doc: Record<string, Omit<Metric, 'name'>> = {};
    for (const { name, ...rest } of metrics)
      doc[name] = { ...rest, value_ms: round(rest.value_ms, 1), baseline_ms: round(rest.baseline_ms, 1), ratio: round(rest.ratio, 3) };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  const rows = metrics.map((m) => [
    m.name,
    m.value_ms.toFixed(1),
    m.baseline_ms.toFixed(1),
    m.ratio.toFixed(3),
    m.goal,
    meets(m) ? 'met' : 'MISSED',
    m.note ?? '',
  ]);
  const head = ['metric', 'value_ms', 'baseline_ms', 'ratio', 'goal', '', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n`);
}
