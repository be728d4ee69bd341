// `pool watch`: keeps this host's lease alive and the dom0 in step with the registry, within a second of each change, until stopped.
import { describeError } from '../core/errors';
import type { Logger } from '../edges/log';
import { syncOnce, type SyncDeps, type SyncReport } from './sync';

export interface WatcherOptions {
  readonly retryMs: number; // pause after the registry did not answer
  readonly debounceMs: number; // changes arriving together are applied in one pass
  readonly resyncMs: number; // a pass even without a change: what a hook could not do in the registry is caught up
}

/** Why the watcher is not applying changes right now, said once per change of state (not once per retry). */
function stateLogger(log: Logger): { ok(): void; failed(err: unknown): void } {
  let failing: string | undefined;
  return {
    ok() { if (failing !== undefined) log.info('registry reachable again: reconciled'); failing = undefined; },
    failed(err) {
      const text = describeError(err);
      if (failing === undefined) log.warn(`registry unreachable, this dom0 keeps its last state: ${text}`);
      failing = text;
    },
  };
}

export function reportLines(report: SyncReport): string[] {
  return [
    ...report.addedHostsLines.map((line) => `+ hosts: ${line}`),
    ...report.removedHostsLines.map((line) => `- hosts: ${line} (released in the pool)`),
    ...report.reconciled,
    ...report.conflicts.map((line) => `conflict: ${line}`),
    ...report.routeProblems,
  ];
}

export async function watchPool(deps: SyncDeps, log: Logger, signal: AbortSignal, options: WatcherOptions): Promise<void> {
  const { registry } = deps;
  const { client, pool } = registry;
  const state = stateLogger(log);
  // each sleep takes its listener off the watcher's signal when it ends: the debounce and the full pass sleep for ever
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const done = () => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
  let lease: string | undefined;

  /** Read, adopt or renew the lease, apply; returns the revision the pass saw. */
  async function pass(): Promise<number> {
    let snapshot = await registry.snapshot();
    const recorded = snapshot.hosts.get(pool.address)?.lease;
    if (!recorded || (recorded !== lease && (await client.leaseKeepAlive(recorded)) <= 0)) {
      lease = await registry.hostLease(snapshot, { renew: recorded !== undefined });
      snapshot = await registry.snapshot();
    } else {
      lease = recorded;
    }
    const report = await syncOnce(deps, snapshot, lease);
    for (const line of reportLines(report)) log.info(line);
    return snapshot.revision;
  }

  // keep-alive at a third of the TTL: two missed beats still leave the lease alive
  const keepAlive = setInterval(() => {
    if (!lease) return;
    // a failed beat means this dom0 may be cut off: restart the watch (a stream to a lost member can hang without closing)
    client.leaseKeepAlive(lease).then((ttl) => { if (ttl <= 0) { log.warn(`lease ${lease} expired: renewing`); lease = undefined; wake(); } }, () => wake());
  }, Math.max(500, (pool.leaseTtlS * 1000) / 3));
  let wake = () => {};
  // an offline whose registry call ran out of time left its binding, and no change may follow to trigger a pass
  let resync = () => {};
  const resyncTimer = setInterval(() => resync(), options.resyncMs);

  try {
    while (!signal.aborted) {
      const round = new AbortController();
      const stop = () => round.abort();
      signal.addEventListener('abort', stop, { once: true });
      wake = stop;
      try {
        const revision = await pass();
        state.ok();
        // one pass at a time; changes that arrive during a pass make exactly one more
        let running: Promise<void> | undefined;
        let again = false;
        const schedule = () => {
          if (running) { again = true; return; }
          running = (async () => {
            do {
              again = false;
              await sleep(options.debounceMs);
              await pass().catch((err) => { state.failed(err); round.abort(); });
            } while (again && !round.signal.aborted);
            running = undefined;
          })();
        };
        resync = schedule;
        await client.watch(pool.prefix, revision + 1, schedule, round.signal);
        await running;
        if (!signal.aborted && !round.signal.aborted) throw new Error('the watch stream ended');
      } catch (err) {
        if (signal.aborted) break;
        state.failed(err);
        await sleep(options.retryMs);
      } finally {
        resync = () => {};
        signal.removeEventListener('abort', stop);
      }
    }
  } finally {
    clearInterval(keepAlive);
    clearInterval(resyncTimer);
  }
}
