// Storm benchmarks: N guests brought online at once, each hook SIGKILLed at libxl's 40 s; failures, slowest hook, batches, efficiency.
import { readFileSync } from 'node:fs';
import type { Sandbox } from '../test/harness/sandbox';
import { LIBXL_HOTPLUG_TIMEOUT_MS } from '../test/harness/sandbox';
import { testMac } from '../test/harness/xen-domain';
import { childrenCpuMs } from './cpu';
import { fmt, hookTimings, median, percentile } from './stats';

export interface StormFigures {
  readonly label: string;
  readonly n: number;
  readonly wallMs: number;
  readonly failed: number;
  readonly killed: number; // of the failed: SIGKILLed at 40 s
  readonly firstFailure?: string;
  readonly hookMs: number[];
  readonly queuedMs: number[];
  readonly batchSizes: number[];
  readonly cpuPerEventMs: number; // the storm's own CPU (all hooks and their children) per event
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
export async function quiesce(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && (await cpuBusy(500)) > 0.1) { /* keep waiting */ }
}

/** Bring `n` new guests online at once (hooks started together, as xl does for `xl create` in a loop), then take them down. */
export async function runStorm(box: Sandbox, label: string, n: number, macTag: number, nextDomid: () => number): Promise<StormFigures> {
  const guests = [];
  for (let i = 0; i < n; i++) guests.push(await box.addGuest(nextDomid(), `storm${macTag}-${i}`, [testMac(macTag, i)], { headless: true }));
  await quiesce();
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const results = await Promise.all(guests.map((g) => box.runHook(g.vifs[0]!, 'online')));
  const wallMs = performance.now() - started;
  const cpuPerEventMs = (childrenCpuMs() - cpuBefore) / n;
  const failures = results.filter((r) => r.code !== 0);
  const killed = failures.filter((r) => r.ms >= LIBXL_HOTPLUG_TIMEOUT_MS).length;
  await Promise.all(guests.map((g) => box.runHook(g.vifs[0]!, 'offline')));
  for (const g of guests) await box.destroyGuest(g);
  const timings = results.map((r) => hookTimings(r.stderr));
  return {
    label, n, wallMs, failed: failures.length, killed, firstFailure: failures[0]?.stderr.trim().split('\n').pop(),
    hookMs: results.map((r) => r.ms),
    queuedMs: timings.flatMap((t) => (t.queuedMs === undefined ? [] : [t.queuedMs])),
    batchSizes: timings.flatMap((t) => (t.batchSize === undefined ? [] : [t.batchSize])),
    cpuPerEventMs,
  };
}

export const STORM_HEADER = [
  '| storm | events | failed (killed at 40 s) | wall | slowest hook | hook p50 | hook p95 | queued p50 | batch p50 / max | CPU per event in the storm | efficiency |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
];

/** Efficiency = wall ÷ (events × CPU per event ÷ cores), CPU per event measured on single events in the same run: 1.0 = the storm took what its events' CPU needs. */
export function efficiency(s: StormFigures, cpuPerEventMs: number, cores: number): number {
  return s.wallMs / ((s.n * cpuPerEventMs) / cores);
}

export function stormRow(s: StormFigures, cpuPerEventMs: number, cores: number): string {
  return `| ${s.label} | ${s.n} | ${s.failed} (${s.killed}) | ${fmt(s.wallMs)} | ${fmt(Math.max(...s.hookMs))} | ${fmt(median(s.hookMs))} | ${fmt(percentile(s.hookMs, 95))} | ` +
    `${fmt(median(s.queuedMs))} | ${median(s.batchSizes)} / ${Math.max(...s.batchSizes, 0)} | ${fmt(s.cpuPerEventMs)} | ${efficiency(s, cpuPerEventMs, cores).toFixed(2)} |`;
}
