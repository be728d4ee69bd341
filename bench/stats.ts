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
  if (a.length !== b.length) throw new Error(`paired samples of different lengths: ${a.length} and ${b.length}`);
  return median(a.map((value, i) => value / b[i]!));
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
