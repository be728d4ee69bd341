// The cross-process lock (proper-lockfile) with deliberate settings: bounded jittered retries, short stale time, no throwing timers.
import * as path from 'node:path';
import { mkdir } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { VifError } from '../core/errors';

export interface LockOptions {
  readonly lockPath: string;
  readonly staleMs: number; // a SIGKILLed holder blocks others at most this long (proper-lockfile clamps to >= 2000)
  readonly waitMs: number; // give up after this long; stays under libxl's 40 s hotplug timeout
  readonly retryMaxMs?: number; // longest pause between tries (default 100 ms, chosen from the storm benchmark)
}

export interface HeldLock {
  readonly waitedMs: number;
  readonly attempts: number;
  /** How long the lock was held, once released. */
  heldMs(): number | undefined;
  /** Set when proper-lockfile found our lock taken over (mtime changed, dir removed): the holder must not write. */
  compromised(): Error | undefined;
  release(): Promise<void>;
}

const FIRST_DELAY_MS = 2;
export const DEFAULT_RETRY_MAX_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Exponential back-off from 2 ms to `maxMs`, each delay randomised by x0.5..1.5 so waiters do not move in lockstep. */
export function retryDelay(attempt: number, random: () => number = Math.random, maxMs = DEFAULT_RETRY_MAX_MS): number {
  const base = Math.min(maxMs, FIRST_DELAY_MS * 1.5 ** attempt);
  return base * (0.5 + random());
}

/** One try: the lock if it is free (or its holder is dead: older than the stale time), else undefined. Never waits. */
export async function tryAcquireLock(options: LockOptions): Promise<HeldLock | undefined> {
  const started = Date.now();
  let compromisedBy: Error | undefined;
  const settings = {
    realpath: false, // the lock guards a directory entry that need not exist
    lockfilePath: options.lockPath,
    stale: options.staleMs,
    update: Math.max(1000, Math.floor(options.staleMs / 3)),
    retries: 0, // retried by the callers, with a deadline and jitter
    onCompromised: (err: Error) => { compromisedBy = err; },
  };
  for (let created = false; ; created = true) {
    try {
      const release = await lockfile.lock(options.lockPath, settings);
      const acquired = Date.now();
      let heldMs: number | undefined;
      return {
        waitedMs: acquired - started,
        attempts: 1,
        heldMs: () => heldMs,
        compromised: () => compromisedBy,
        release: async () => {
          await release().catch(() => undefined);
          heldMs = Date.now() - acquired;
        },
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOCKED') return undefined;
      if (code === 'ENOENT' && !created) {
        await mkdir(path.dirname(options.lockPath), { recursive: true, mode: 0o755 });
        continue;
      }
      throw new VifError('FILE_IO', `cannot take the lock ${options.lockPath}: ${(err as Error).message}`,
        `check that ${path.dirname(options.lockPath)} is writable by root`, { lockPath: options.lockPath }, err);
    }
  }
}

/** The lock, tried again and again (jittered back-off) until `waitMs` has passed; then LOCK_TIMEOUT. */
export async function acquireLock(options: LockOptions): Promise<HeldLock> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const lock = await tryAcquireLock(options);
    if (lock) return { ...lock, waitedMs: Date.now() - started, attempts: attempt + 1 };
    const waited = Date.now() - started;
    if (waited >= options.waitMs) throw lockTimeout(options.lockPath, waited);
    await sleep(Math.min(retryDelay(attempt, Math.random, options.retryMaxMs), options.waitMs - waited + 1));
  }
}

export function lockTimeout(lockPath: string, waitedMs: number, purpose = ''): VifError {
  return new VifError('LOCK_TIMEOUT', `gave up waiting ${waitedMs} ms for the lock ${lockPath}${purpose ? ` ${purpose}` : ''}`,
    `another vif-nat-dns is stuck holding it; if none runs (pgrep -f vif-nat-dns), remove ${lockPath}`, { lockPath, waitedMs });
}
