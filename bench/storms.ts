// Storm benchmarks: N guests brought online at once, how cost grows with N, and the lock settings compared under the largest storm.
import { readFileSync } from 'node:fs';
import type { Sandbox } from '../test/harness/sandbox';
import { testMac } from '../test/harness/xen-domain';
import { fmt, hookTimings, median, percentile } from './stats';

export interface StormFigures {
  readonly n: number;
  readonly wallMs: number;
  readonly hookMs: number[];
  readonly lockWaitMs: number[];
  readonly lockHeldMs: number[];
  readonly waitShare: number; // lock wait as a share of all hooks' time
}

/** Busy share of all CPUs over `ms`, from /proc/stat. */
async function cpuBusy(ms: number): Promise<number> {
  const sample = () => readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const before = sample();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const delta = sample().map((value, i) => value - before[i]!);
  const total = delta.reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : 1 - (delta[3]! + delta[4]!) / total; // idle + iowait
}

/**
 * Wait (at most 60 s) until the CPUs are quiet. Namespaces torn down before a storm are freed by kernel workers
 * that would otherwise share its CPUs: without this the same 200-guest storm measured 8.8 s or 12.1 s.
 */
async function quiesce(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && (await cpuBusy(500)) > 0.1) { /* keep waiting */ }
}

/** Bring `n` new guests online at once (hooks started together, as xl does for `xl create` in a loop), then take them down. */
export async function runStorm(box: Sandbox, n: number, macTag: number, nextDomid: () => number, env: Record<string, string> = {}): Promise<StormFigures> {
  const guests = [];
  for (let i = 0; i < n; i++) guests.push(await box.addGuest(nextDomid(), `storm${macTag}-${i}`, [testMac(macTag, i)], { headless: true }));
  await quiesce();
  const started = performance.now();
  const results = await Promise.all(guests.map((g) => box.runHook(g.vifs[0]!, 'online', env)));
  const wallMs = performance.now() - started;
  const failed = results.filter((r) => r.code !== 0);
  if (failed.length) throw new Error(`${failed.length} hooks failed: ${failed[0]!.stderr}`);
  await Promise.all(guests.map((g) => box.runHook(g.vifs[0]!, 'offline')));
  for (const g of guests) await box.destroyGuest(g);
  const timings = results.map((r) => hookTimings(r.stderr));
  const hookMs = results.map((r) => r.ms);
  const lockWaitMs = timings.map((t) => t.queuedMs ?? 0);
  const lockHeldMs = timings.map((t) => t.lockHeldMs ?? 0);
  const waitShare = lockWaitMs.reduce((a, b) => a + b, 0) / hookMs.reduce((a, b) => a + b, 0);
  return { n, wallMs, hookMs, lockWaitMs, lockHeldMs, waitShare };
}

export function stormRow(label: string, s: StormFigures): string {
  return `| ${label} | ${fmt(s.wallMs)} | ${fmt(s.wallMs / s.n)} | ${fmt(median(s.hookMs))} | ${fmt(percentile(s.hookMs, 95))} | ${fmt(Math.max(...s.hookMs))} | ` +
    `${fmt(median(s.lockWaitMs))} | ${fmt(Math.max(...s.lockWaitMs))} | ${fmt(median(s.lockHeldMs))} | ${fmt(Math.max(...s.lockHeldMs))} | ${(s.waitShare * 100).toFixed(0)}% |`;
}

export const STORM_HEADER = [
  '| guests | wall | wall per guest | hook p50 | hook p95 | hook max | lock wait p50 | lock wait max | lock held p50 | lock held max | lock-wait share |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
];

/** How wall time grows with N: per guest, and the marginal cost of each guest added between two storm sizes. */
export function growthSummary(storms: readonly StormFigures[]): string {
  const first = storms[0]!;
  const last = storms[storms.length - 1]!;
  const ratio = last.wallMs / last.n / (first.wallMs / first.n);
  const marginal = storms.slice(1).map((s, i) => {
    const prev = storms[i]!;
    return `${prev.n}→${s.n}: ${fmt((s.wallMs - prev.wallMs) / (s.n - prev.n))} per added guest`;
  });
  return `Wall time per guest goes from ${fmt(first.wallMs / first.n)} at ${first.n} guests to ${fmt(last.wallMs / last.n)} at ${last.n} (×${ratio.toFixed(2)}; ` +
    `${marginal.join(', ')}): ${ratio <= 1.15 ? 'cost grows linearly with the number of guests' : 'cost grows faster than linearly'}. ` +
    'Each hook is a separate Node process, so on this machine a storm is CPU-bound; the lock is held for a few ms per hook, and waiters poll for it ' +
    '(tries from 2 ms apart, ×1.5 each time up to LOCK_RETRY_MAX_MS, randomised ×0.5–1.5 so they do not move in lockstep).';
}
