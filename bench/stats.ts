// Small statistics for the benchmark: medians, percentiles, and parsing the hook's own timing line.
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const median = (values: readonly number[]) => percentile(values, 50);

/**
 * The median of a[i] / b[i]: each round's a and b ran back to back, so a drift of the machine's speed between rounds
 * (seen here: a bare start at 22 ms in one minute, 36 ms in the next) cancels out of each ratio.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(roundRatios(a, b));
}

function roundRatios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new Error(`paired samples of different lengths: ${a.length} and ${b.length}`);
  return a.map((value, i) => value / b[i]!);
}

/**
 * A distribution-free 95% interval for the median (order statistics, normal approximation to the binomial): the
 * ranks n/2 ∓ 1.96·√n/2 of the sorted values. How far the median itself could be from what more rounds would give.
 */
export function medianInterval(values: readonly number[]): { low: number; high: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const spread = (1.96 * Math.sqrt(n)) / 2;
  const low = Math.max(1, Math.floor(n / 2 - spread));
  const high = Math.min(n, Math.ceil(1 + n / 2 + spread));
  return n === 0 ? { low: NaN, high: NaN } : { low: sorted[low - 1]!, high: sorted[high - 1]! };
}

/** pairedRatio with its median's 95% interval. */
export function pairedRatioInterval(a: readonly number[], b: readonly number[]): { ratio: number; low: number; high: number } {
  const ratios = roundRatios(a, b);
  return { ratio: median(ratios), ...medianInterval(ratios) };
}

/** Whether one run's interval settles a goal of "at most `limit`". */
export function verdict(interval: { low: number; high: number }, limit: number): 'met' | 'not met' | 'not decided by this run' {
  if (interval.high <= limit) return 'met';
  return interval.low > limit ? 'not met' : 'not decided by this run';
}

export function fmt(ms: number): string {
  return Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : 'n/a';
}

/** "…; 43 ms, queued 2 ms, held 5 ms, batch 3" and, at LOG_LEVEL=debug, "maxrss 51234 KiB" from the hook's stderr. */
export function hookTimings(stderr: string): { inProcessMs?: number; queuedMs?: number; lockHeldMs?: number; batchSize?: number; maxRssKiB?: number } {
  const timing = /; (\d+) ms, queued (\d+) ms, held (\d+) ms, batch (\d+)/.exec(stderr);
  const rss = /maxrss (\d+) KiB/.exec(stderr);
  return {
    inProcessMs: timing ? Number(timing[1]) : undefined,
    queuedMs: timing ? Number(timing[2]) : undefined,
    lockHeldMs: timing ? Number(timing[3]) : undefined,
    batchSize: timing ? Number(timing[4]) : undefined,
    maxRssKiB: rss ? Number(rss[1]) : undefined,
  };
}

/** The hook's phase line at LOG_LEVEL=debug ("phases (ms): start 31, xenstore 2.1, …") as phase -> ms; "start" is time from process start to main(). */
export function hookPhases(stderr: string): Map<string, number> {
  const line = /phases \(ms\): ([^;]*);/.exec(stderr);
  const phases = new Map<string, number>();
  for (const part of line ? line[1]!.split(', ') : []) {
    const match = /^(\S+) ([\d.]+)$/.exec(part);
    if (match) phases.set(match[1]!, Number(match[2]));
  }
  return phases;
}

/** The hook's CPU phase line at LOG_LEVEL=debug ("cpu phases (ms): start 30.1, …") as phase -> ms (the hook process alone). */
export function hookCpuPhases(stderr: string): Map<string, number> {
  return hookPhases(stderr.replace(/^.*\bphases \(ms\):.*maxrss.*$/m, '').replace('cpu phases (ms):', 'phases (ms):'));
}
