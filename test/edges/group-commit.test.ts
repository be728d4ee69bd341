// Group commit across many submitters: each request applied exactly once, in batches, in queue order; dead holders and failures do not strand anyone.
import { mkdtempSync, rmSync, mkdirSync, utimesSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGroupCommit, type BatchApplier } from '../../src/edges/group-commit';
import { lockLost } from '../../src/edges/lock';
import { createSpool } from '../../src/edges/spool';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vnd-gc-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface Recorder { batches: string[][]; applied: number[] }

/** The applier every member uses unless told otherwise: records each batch and doubles each number. */
function doubling(rec: Recorder): BatchApplier<number> {
  return async (_lock, requests) => {
    rec.batches.push(requests.map((r) => r.id));
    await new Promise((resolve) => setTimeout(resolve, 20)); // a write takes a while: later arrivals pile up
    return requests.map((r) => { const n = (r.data as { n: number }).n; rec.applied.push(n); return n * 2; });
  };
}

/** A "process": its own spool handle and group commit over the shared directory and lock; the applier doubles each number. */
function member(rec: Recorder, options: { staleMs?: number; apply?: BatchApplier<number> } = {}) {
  return createGroupCommit<number>({
    lock: { lockPath: join(dir, 'lock'), staleMs: options.staleMs ?? 2000, waitMs: 10_000 },
    spool: createSpool(join(dir, 'queue')),
    apply: options.apply ?? doubling(rec),
    failed: () => -1,
  });
}

describe('group commit', () => {
  it('40 submitters at once: each gets its own result, each request is applied once, in batches, each batch in queue order', async () => {
    const rec: Recorder = { batches: [], applied: [] };
    const results = await Promise.all(Array.from({ length: 40 }, (_, n) => member(rec).submit({ n }, 10_000)));
    expect(results).toEqual(Array.from({ length: 40 }, (_, n) => n * 2));
    expect(rec.applied.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    expect(rec.batches.length).toBeLessThan(40);
    for (const batch of rec.batches) expect(batch).toEqual([...batch].sort());
    expect(readdirSync(join(dir, 'queue'))).toEqual([]); // every waiter cleaned up after itself
  });

  it('a holder that died (stale lock) with requests still queued: the next submitter applies them and its own', async () => {
    const rec: Recorder = { batches: [], applied: [] };
    const orphan = await createSpool(join(dir, 'queue')).enqueue({ n: 7 }); // queued by a hook that died with the lock
    mkdirSync(join(dir, 'lock'));
    const old = new Date(Date.now() - 10_000);
    utimesSync(join(dir, 'lock'), old, old);
    expect(await member(rec).submit({ n: 1 }, 10_000)).toBe(2);
    expect(rec.batches).toHaveLength(1);
    expect(rec.batches[0]).toEqual([orphan.id, expect.any(String)]);
    expect((await orphan.poll())?.result).toBe(14);
  });

  it('a holder that loses the lock before writing publishes nothing: its own and the queued requests are applied by the next holder', async () => {
    const rec: Recorder = { batches: [], applied: [] };
    const orphan = await createSpool(join(dir, 'queue')).enqueue({ n: 5 });
    let lost = false;
    const losesOnce: BatchApplier<number> = async (lock, requests) => {
      if (!lost) {
        lost = true;
        throw lockLost(join(dir, 'lock'), 'another process took it over');
      }
      return doubling(rec)(lock, requests);
    };
    expect(await member(rec, { apply: losesOnce }).submit({ n: 1 }, 10_000)).toBe(2);
    expect((await orphan.poll())?.result).toBe(10); // applied, never published as failed (-1)
    expect(rec.applied.sort()).toEqual([1, 5]);
  });

  it('a live holder that stays too long: the waiter times out with LOCK_TIMEOUT and withdraws its request', async () => {
    const rec: Recorder = { batches: [], applied: [] };
    mkdirSync(join(dir, 'lock'));
    const future = new Date(Date.now() + 3_600_000);
    utimesSync(join(dir, 'lock'), future, future);
    await expect(member(rec).submit({ n: 1 }, 500)).rejects.toThrow(expect.objectContaining({ code: 'LOCK_TIMEOUT' }));
    expect(readdirSync(join(dir, 'queue'))).toEqual([]);
    expect(rec.applied).toEqual([]);
  });

  it('a batch whose apply throws fails each of its requests at once instead of leaving them to time out', async () => {
    const rec: Recorder = { batches: [], applied: [] };
    const broken = member(rec, { apply: async () => { throw new Error('ENOSPC'); } });
    const started = Date.now();
    expect(await broken.submit({ n: 1 }, 10_000)).toBe(-1);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('exclusive applies what is queued before running, under the same lock', async () => {
    const rec: Recorder = { batches: [], applied: [] };
    const queued = await createSpool(join(dir, 'queue')).enqueue({ n: 3 });
    const seen = await member(rec).exclusive(async () => [...rec.applied]);
    expect(seen).toEqual([3]);
    expect((await queued.poll())?.result).toBe(6);
  });

  it('a request queued while the lock is held is applied when the holder lets go, not at the waiter\'s next timer', async () => {
    const rec: Recorder = { batches: [], applied: [] };
    const holder = member(rec);
    let submitted: Promise<number> | undefined;
    let releasedAt = 0;
    await holder.exclusive(async () => {
      submitted = member(rec).submit({ n: 5 }, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      releasedAt = Date.now();
    });
    expect(await submitted).toBe(10);
    expect(holder.stats.batches).toBe(1); // the holder looked at the queue after letting go and applied it
    expect(Date.now() - releasedAt).toBeLessThan(1000);
  });
});
