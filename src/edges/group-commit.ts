// Group commit: hooks queue requests; whoever holds the lock applies every queued request in one batch and publishes each result.
// Waiters sleep on inotify for their own result; a timer (jittered, growing to 1 s) makes them try the lock themselves, so progress
// never depends on a holder that died. Generic over what a batch does: the applier plugs in (files here; another store elsewhere).
import { acquireLock, isLockLost, lockTimeout, tryAcquireLock, type HeldLock, type LockOptions } from './lock';
import { newRequestId, type Published, type QueuedRequest, type Spool } from './spool';

export interface BatchApplier<Res> {
  /** Under the held lock: apply the requests in the order given, durably, and return one result per request. */
  (lock: HeldLock, requests: readonly QueuedRequest[]): Promise<Res[]>;
}

export interface GroupCommitOptions<Res> {
  readonly lock: LockOptions;
  readonly spool: Spool;
  readonly apply: BatchApplier<Res>;
  /** Result for every request of a batch whose apply threw (a full disk): they fail fast instead of timing out. */
  readonly failed: (err: unknown) => Res;
  /** How long one holder keeps applying new batches before it lets go (ms). */
  readonly tenureMs?: number;
}

export interface CommitStats {
  queuedMs: number; // enqueue to result, summed over this process's requests
  heldMs: number; // time this process held the lock
  batches: number; // batches this process applied
  batchSize: number; // size of the batch that applied this process's last request
}

export interface GroupCommit<Res> {
  /** Queue `request` and resolve with its result, applying batches ourselves whenever the lock is free; LOCK_TIMEOUT after `waitMs`. */
  submit(request: unknown, waitMs: number): Promise<Res>;
  /** Hold the lock for `fn` (admin commands, rare global changes), after applying what is queued. Waits up to the lock's waitMs. */
  exclusive<T>(fn: (lock: HeldLock) => Promise<T>): Promise<T>;
  readonly stats: CommitStats;
}

const FIRST_FALLBACK_MS = 150;
const MAX_FALLBACK_MS = 1000;
const DEFAULT_TENURE_MS = 1000;
const MAX_TENURES = 3;

export function createGroupCommit<Res>(options: GroupCommitOptions<Res>): GroupCommit<Res> {
  const { spool } = options;
  const tenureMs = options.tenureMs ?? DEFAULT_TENURE_MS;
  const stats: CommitStats = { queuedMs: 0, heldMs: 0, batches: 0, batchSize: 0 };

  /**
   * Apply batch after batch while requests keep arriving, up to the tenure. `own` (the holder's own request, never queued:
   * it dies with its hook anyway) joins the first batch in its place by id; its result is returned, not published.
   */
  async function drain(lock: HeldLock, own?: QueuedRequest): Promise<Res | undefined> {
    const started = Date.now();
    let ownResult: Res | undefined;
    for (let first = true; first || Date.now() - started < tenureMs; first = false) {
      const queued = await spool.pending();
      const batch = own && first ? [...queued, own].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) : queued;
      if (batch.length === 0) break;
      let results: Res[];
      try {
        results = await options.apply(lock, batch);
      } catch (err) {
        // the lock went to another holder before we wrote: publish nothing, the queued requests stay for it to apply
        if (isLockLost(err)) {
          if (ownResult !== undefined) return ownResult;
          throw err;
        }
        results = batch.map(() => options.failed(err));
      }
      stats.batches++;
      await Promise.all(batch.map((request, i) => {
        if (request !== own) return spool.publish(request.id, { result: results[i]!, batchSize: batch.length, appliedBy: process.pid });
        ownResult = results[i]!;
        stats.batchSize = batch.length;
        return undefined;
      }));
    }
    return ownResult;
  }

  async function withLock<T>(lock: HeldLock, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } finally {
      await lock.release();
      stats.heldMs += lock.heldMs() ?? 0;
    }
  }

  /** Take the lock if it is free and apply what is queued; again after letting go if more arrived meanwhile (a bounded number of times). */
  async function tryDrain(): Promise<void> {
    for (let tenure = 0; tenure < MAX_TENURES; tenure++) {
      const lock = await tryAcquireLock(options.lock);
      if (!lock) return; // its holder applies what is queued, or lets go and looks again
      try {
        await withLock(lock, () => drain(lock));
      } catch (err) {
        if (isLockLost(err)) return; // its new holder applies what is queued
        throw err;
      }
      if (!(await spool.hasPending())) return;
    }
  }

  return {
    stats,
    async submit(request, waitMs) {
      const started = Date.now();
      // the lock is free: apply what is queued and our own request in one batch, without queueing ours
      const free = await tryAcquireLock(options.lock);
      if (free) {
        const own = { id: newRequestId(), data: request };
        let result: Res | undefined;
        try {
          result = await withLock(free, () => drain(free, own));
        } catch (err) {
          if (!isLockLost(err)) throw err; // lost before ours was written: queue it like any waiter, below
        }
        if (result !== undefined) {
          stats.queuedMs += Date.now() - started;
          if (await spool.hasPending()) await tryDrain();
          return result;
        }
      }
      const ticket = await spool.enqueue<Res>(request);
      try {
        let delay = FIRST_FALLBACK_MS;
        for (;;) {
          await tryDrain();
          const found = await ticket.wait(Math.min(delay * (0.5 + Math.random()), Math.max(0, started + waitMs - Date.now())));
          if (found) return done(found);
          if (Date.now() - started >= waitMs) {
            // one last look: a holder may have published while we timed out
            const late = await ticket.poll();
            if (late) return done(late);
            throw lockTimeout(options.lock.lockPath, Date.now() - started, `to apply queued request ${ticket.id}`);
          }
          delay = Math.min(delay * 1.5, MAX_FALLBACK_MS);
        }
      } finally {
        stats.queuedMs += Date.now() - started;
        await ticket.close();
      }
      function done(published: Published<Res>): Res {
        stats.batchSize = published.batchSize;
        return published.result;
      }
    },
    async exclusive(fn) {
      const deadline = Date.now() + options.lock.waitMs;
      for (;;) {
        const lock = await acquireLock({ ...options.lock, waitMs: Math.max(0, deadline - Date.now()) });
        try {
          const result = await withLock(lock, async () => {
            await drain(lock);
            return fn(lock);
          });
          if (await spool.hasPending()) await tryDrain();
          return result;
        } catch (err) {
          if (!isLockLost(err) || Date.now() >= deadline) throw err; // lost before writing: take it again and redo
        }
      }
    },
  };
}
