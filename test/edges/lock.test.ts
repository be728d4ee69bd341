// Lock behaviour that matters on a hypervisor: a dead holder's lock is reclaimed within the stale time; waiting is bounded.
import { mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, retryDelay } from '../../src/edges/lock';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vnd-lock-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('lock', () => {
  it('reclaims the lock of a holder that died (mtime older than stale)', async () => {
    const lockPath = join(dir, 'lock');
    mkdirSync(lockPath);
    const old = new Date(Date.now() - 5000);
    utimesSync(lockPath, old, old);
    const lock = await acquireLock({ lockPath, staleMs: 3000, waitMs: 1000 });
    expect(lock.waitedMs).toBeLessThan(1000);
    await lock.release();
  });

  it('gives up after waitMs with an error naming the lock and what to do', async () => {
    const lockPath = join(dir, 'lock');
    const held = await acquireLock({ lockPath, staleMs: 3000, waitMs: 1000 });
    await expect(acquireLock({ lockPath, staleMs: 3000, waitMs: 300 })).rejects.toThrow(/gave up waiting \d+ ms for the lock .*lock/);
    await held.release();
  });

  it('creates the lock directory\'s parent when missing', async () => {
    const lock = await acquireLock({ lockPath: join(dir, 'sub', 'lock'), staleMs: 3000, waitMs: 1000 });
    await lock.release();
  });

  it('randomises back-off so waiters do not move in lockstep, and caps it', () => {
    expect(retryDelay(0, () => 0)).toBe(1);
    expect(retryDelay(0, () => 1)).toBe(3);
    expect(retryDelay(50, () => 0.5)).toBe(100);
    expect(new Set(Array.from({ length: 20 }, () => retryDelay(3))).size).toBeGreaterThan(10);
  });
});
