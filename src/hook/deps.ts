// The edges an event handler works through; built for real in main.ts, swappable in tests.
import type { Config } from '../core/config';
import type { Dnsmasq } from '../edges/dnsmasq';
import type { FileStore } from '../edges/file-store';
import type { Firewall } from '../edges/firewall';
import type { RequestQueue } from '../edges/request-queue';
import type { Logger } from '../edges/log';
import type { NetworkOps } from '../edges/network';
import type { XenStore } from '../edges/xenstore';
import type { AddressStore } from '../pool/address-store';

export interface HookDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly openXenStore: () => Promise<XenStore>;
  /** Read freely; `transact` (rare global changes) runs under the lock after what is queued. */
  readonly files: FileStore;
  /** The hook's changes to the files go through the queue: applied in a batch by whoever holds the lock. */
  readonly queue: RequestQueue;
  /** How long this event waits for its queued request (offline: at most 10 s). */
  readonly queueWaitMs: number;
  readonly net: NetworkOps;
  readonly firewall: Firewall;
  readonly dnsmasq: Dnsmasq;
  /** Where addresses are allocated and bound: the files (one dom0) or the pool's registry. */
  readonly addresses: AddressStore;
  /** Records how long each phase took (printed at LOG_LEVEL=debug; read by the benchmark). */
  readonly mark: (phase: string) => void;
}

/** Milliseconds since the process started (so the first mark also tells how long Node and the bundle took to start). */
export const uptimeMs = () => process.uptime() * 1000;

const cpuMs = () => { const { user, system } = process.cpuUsage(); return (user + system) / 1000; };

export interface PhaseTimer {
  mark(phase: string): void;
  /** The phases marked so far, in order: kept at every log level (the slow-event warning names them). */
  readonly done: readonly string[];
  summary(): string;
  cpuSummary(): string;
}

/**
 * Wall and CPU time (this process's, user+sys) of each phase when `enabled`; "start" is Node's start, the loader and the
 * bundle. Otherwise only the phases' names: reading the CPU clock at every mark costs an event ~0.5 ms, paid only at
 * LOG_LEVEL=debug.
 */
export function phaseTimer(enabled: boolean): PhaseTimer {
  const done: string[] = [];
  if (!enabled) return { done, mark: (phase) => { done.push(phase); }, summary: () => '', cpuSummary: () => '' };
  let last = uptimeMs();
  let lastCpu = cpuMs();
  const phases: string[] = [`start ${Math.round(last)}`];
  const cpu: string[] = [`start ${lastCpu.toFixed(1)}`];
  return {
    done,
    mark: (phase) => {
      done.push(phase);
      const now = uptimeMs();
      const nowCpu = cpuMs();
      phases.push(`${phase} ${(now - last).toFixed(1)}`);
      cpu.push(`${phase} ${(nowCpu - lastCpu).toFixed(1)}`);
      last = now;
      lastCpu = nowCpu;
    },
    summary: () => phases.join(', '),
    cpuSummary: () => cpu.join(', '),
  };
}

/** Run `fn` under the files' lock without touching the files (serialises rare global changes such as the first MASQUERADE rule). */
export function underLock(files: FileStore): <T>(fn: () => Promise<T>) => Promise<T> {
  return (fn) => files.transact(async () => ({ update: {}, result: await fn() }));
}
