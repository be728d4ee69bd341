// Benchmark section: allocation latency of a pool dom0 (registry in a 3-member etcd cluster) beside the same dom0 in single-host mode.
import { TestPool } from '../test/harness/pool';
import { testMac } from '../test/harness/xen-domain';
import type { Sandbox } from '../test/harness/sandbox';
import { fmt, hookPhases, median, percentile } from './stats';

interface Figures { readonly fresh: number[]; readonly known: number[]; readonly offline: number[]; readonly phases: Map<string, number[]> }

/** `runs` new names (allocation), then each one again (a restart: a known name), then its offline; alternated per run. */
async function measure(box: Sandbox, runs: number, tag: number, env: Record<string, string>, nextDomid: () => number): Promise<Figures> {
  const figures: Figures = { fresh: [], known: [], offline: [], phases: new Map() };
  for (let i = 0; i < runs + 3; i++) {
    const guest = await box.addGuest(nextDomid(), `bench-${tag}-${i}`, [testMac(tag, i)], { headless: true });
    const vif = guest.vifs[0]!;
    const fresh = await box.runHook(vif, 'online', { VIF_NAT_DNS_LOG_LEVEL: 'debug', ...env });
    const down = await box.runHook(vif, 'offline', env);
    const known = await box.runHook(vif, 'online', env);
    await box.runHook(vif, 'offline', env);
    await box.destroyGuest(guest);
    if ([fresh, down, known].some((r) => r.code !== 0)) throw new Error(`hook failed: ${fresh.stderr}${down.stderr}${known.stderr}`);
    if (i < 3) continue;
    figures.fresh.push(fresh.ms);
    figures.known.push(known.ms);
    figures.offline.push(down.ms);
    for (const [phase, ms] of hookPhases(fresh.stderr)) figures.phases.set(phase, [...(figures.phases.get(phase) ?? []), ms]);
  }
  return figures;
}

export async function poolLatency(runs: number, say: (line?: string) => void, nextDomid: () => number): Promise<void> {
  const pool = await TestPool.create({ dom0s: 2, leaseTtlS: 30 });
  try {
    const box = pool.dom0s[0]!;
    const poolEnv = box.hookEnv;
    box.hookEnv = {}; // single-host mode: the same dom0, ETCD_ENDPOINTS empty
    const single = await measure(box, runs, 40, { VIF_NAT_DNS_SYSLOG: 'no' }, nextDomid);
    box.hookEnv = poolEnv;
    const pooled = await measure(box, runs, 41, {}, nextDomid);
    const row = (what: string, a: number[], b: number[]) =>
      say(`| ${what} | ${fmt(median(a))} | ${fmt(median(b))} (p90 ${fmt(percentile(b, 90))}) | +${fmt(median(b) - median(a))} | ${(median(b) / median(a)).toFixed(2)} |`);
    say('## 6. A pool: allocation latency with etcd beside without');
    say('');
    say('| event | single host (files) | pool (etcd, 3 members) | difference | ratio |');
    say('|---|---|---|---|---|');
    row('online, new name (allocation)', single.fresh, pooled.fresh);
    row('online, known name (restart)', single.known, pooled.known);
    row('offline', single.offline, pooled.offline);
    say('');
    say(`${runs} runs each after 3 warm-ups, the same namespaced dom0 and the same three-member etcd cluster (each member in its own network namespace on the hosts' bridge) in both columns; single host = ETCD_ENDPOINTS empty.`);
    say('');
    say('Where a pool online of a new name goes (medians of the hook\'s phase marks; "registry" is the range read, the registering transaction and the materialised names):');
    say('');
    say(`| ${[...pooled.phases.keys()].join(' | ')} |`);
    say(`|${[...pooled.phases.keys()].map(() => '---').join('|')}|`);
    say(`| ${[...pooled.phases.values()].map((v) => fmt(median(v))).join(' | ')} |`);
    say('');
    await pool.startWatchers();
    const seen = await propagation(box, pool.dom0s[1]!, Math.max(10, runs), nextDomid);
    say('Propagation to another dom0 with `pool watch` running on both (what the watcher promises: within a second of a change), ' +
      `${seen.up.length} guests, each online then offline on dom0 A while dom0 B polls its own files and routes every 5 ms:`);
    say('');
    say('| from | until dom0 B | median | p90 | max |');
    say('|---|---|---|---|---|');
    const fromStart = seen.up.map((ms, i) => ms + seen.online[i]!);
    say(`| the start of the online on A (it registers the binding mid-way; the online itself: median ${fmt(median(seen.online))}) | has the name in /etc/hosts and the /32 route via A (its /etc/ethers, rightly, never binds A's guest) | ${fmt(median(fromStart))} | ${fmt(percentile(fromStart, 90))} | ${fmt(Math.max(...fromStart))} |`);
    say(`| the end of the online on A | the same | ${fmt(median(seen.up))} | ${fmt(percentile(seen.up, 90))} | ${fmt(Math.max(...seen.up))} |`);
    say(`| the end of the offline on A | has dropped the route (the name stays, as on every dom0) | ${fmt(median(seen.down))} | ${fmt(percentile(seen.down, 90))} | ${fmt(Math.max(...seen.down))} |`);
    say('');
    say(`Measured by \`${process.env.BENCH_ONLY ? `BENCH_ONLY=${process.env.BENCH_ONLY} ` : ''}BENCH_RUNS=${runs} node dist/bench.cjs\` on ${new Date().toISOString().slice(0, 10)}; each figure includes one \`nsenter\` start of the probe (a few ms).`);
    say('');
  } finally {
    await pool.destroy();
  }
}

/** Wait in `box`'s dom0 until `condition` (sh) holds, polling every 5 ms; the ms it took and whether B's /etc/ethers binds `ip`. */
async function until(box: Sandbox, condition: string, ip: string, what: string): Promise<{ ms: number; ethersBinds: boolean }> {
  const started = performance.now();
  const script = `until ${condition}; do sleep 0.005; done; grep -q " $1$" /etc/ethers && echo ethers-binds; exit 0`;
  const probe = await box.inDom0(['timeout', '10', 'sh', '-c', script, 'sh', ip]);
  if (probe.code !== 0) throw new Error(`${what} did not reach the other dom0 within 10 s`);
  return { ms: performance.now() - started, ethersBinds: probe.stdout.includes('ethers-binds') };
}

/** ms from the end of an online (offline) on `from` until `to` has the name and the route to it (has dropped the route). */
async function propagation(from: Sandbox, to: Sandbox, count: number, nextDomid: () => number): Promise<{ online: number[]; up: number[]; down: number[] }> {
  const times = { online: [] as number[], up: [] as number[], down: [] as number[] };
  for (let i = 0; i < count; i++) {
    const guest = await from.addGuest(nextDomid(), `spread-${i}`, [testMac(42, i)], { headless: true });
    const result = await from.runHook(guest.vifs[0]!, 'online');
    const ip = /online vif\S+: \S+ (\S+) /.exec(result.stderr)?.[1];
    if (result.code !== 0 || !ip) throw new Error(result.stderr);
    const via = from.hookEnv.VIF_NAT_DNS_POOL_ADDRESS!; // the next hop B's route must name
    const up = await until(to, `grep -qxF "$1\tspread-${i}" /etc/hosts && ip -4 route show proto 98 | grep -q "^$1 via ${via} "`, ip, `spread-${i}`);
    if (up.ethersBinds) throw new Error(`the other dom0's /etc/ethers binds ${ip}, a guest it does not run`);
    const down = await from.runHook(guest.vifs[0]!, 'offline');
    if (down.code !== 0) throw new Error(down.stderr);
    const gone = await until(to, `! ip -4 route show proto 98 | grep -q "^$1 "`, ip, `spread-${i}'s offline`);
    await from.destroyGuest(guest);
    times.online.push(result.ms);
    times.up.push(up.ms);
    times.down.push(gone.ms);
  }
  return times;
}
