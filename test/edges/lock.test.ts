// Lock behaviour that matters on a hypervisor: a dead holder's lock is reclaimed at once, a starved live one is never taken; waiting is bounded.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildSync } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, retryDelay, tryAcquireLock } from '../../src/edges/lock';
import { renderOwner } from '../../src/core/lock-owner';

let dir: string;

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vnd-lock-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

let holderBundle: string;
const buildDir = mkdtempSync(join(tmpdir(), 'vnd-lock-build-'));
beforeAll(() => {
  holderBundle = join(buildDir, 'lock-holder.cjs');
  buildSync({ entryPoints: [join(__dirname, 'fixtures', 'lock-holder.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node18', outfile: holderBundle, logLevel: 'silent' });
});
afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => { for (const child of children.splice(0)) { child.kill('SIGCONT'); child.kill('SIGKILL'); } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A holder process; `say` sends it a line and resolves with its next line of output. */
async function startHolder(lockPath: string, staleMs: number) {
  const child = spawn(process.execPath, [holderBundle, lockPath, String(staleMs)]);
  children.push(child);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => (await lines.next()).value as string;
  expect(await next()).toBe('held');
  return { child, say: async (line: string) => { child.stdin.write(`${line}\n`); return next(); } };
}

describe('lock', () => {
  it('a holder starved of CPU (SIGSTOPped) past the stale time keeps its lock, and can still write when it runs again', async () => {
    const lockPath = join(dir, 'lock');
    const holder = await startHolder(lockPath, 2000);
    holder.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    while (Date.now() - stoppedAt < 3500) {
      expect(await tryAcquireLock({ lockPath, staleMs: 2000, waitMs: 0 })).toBeUndefined();
      await sleep(200);
    }
    expect(Date.now() - statSync(lockPath).mtimeMs).toBeGreaterThan(2000); // by age alone it would have been taken over
    holder.child.kill('SIGCONT');
    const answer = await holder.say('check');
    expect(answer).toBe('ours');
    expect(await holder.say('release')).toBe('released');
    expect(existsSync(lockPath)).toBe(false);
  });

  it('a SIGKILLed holder\'s lock is taken over at once, long before the stale time', async () => {
    const lockPath = join(dir, 'lock');
    const holder = await startHolder(lockPath, 30_000);
    holder.child.kill('SIGKILL');
    await new Promise((resolve) => holder.child.once('exit', resolve));
    const lock = await acquireLock({ lockPath, staleMs: 30_000, waitMs: 1000 });
    expect(lock.waitedMs).toBeLessThan(1000);
    expect(() => lock.assertHeld()).not.toThrow();
    await lock.release();
    expect(readdirSync(dir)).toEqual([]); // the dead holder's lock is removed, not left beside
  });

  it('a holder whose lock was taken over refuses to write (LOCK_LOST) and leaves the new holder\'s lock alone', async () => {
    const lockPath = join(dir, 'lock');
    const lock = await acquireLock({ lockPath, staleMs: 3000, waitMs: 1000 });
    renameSync(lockPath, join(dir, 'moved'));
    mkdirSync(lockPath);
    const other = renderOwner({ pid: process.pid, start: '1', pidns: 'pid:[1]', token: 'someone.else' });
    writeFileSync(join(lockPath, 'owner'), other);
    expect(() => lock.assertHeld()).toThrow(expect.objectContaining({ code: 'LOCK_LOST' }));
    await lock.release();
    expect(readFileSync(join(lockPath, 'owner'), 'latin1')).toBe(other);
  });

  it('a fresh lock without an owner record yet (its holder between mkdir and the record) is left alone', async () => {
    const lockPath = join(dir, 'lock');
    mkdirSync(lockPath);
    expect(await tryAcquireLock({ lockPath, staleMs: 3000, waitMs: 0 })).toBeUndefined();
    expect(existsSync(lockPath)).toBe(true);
  });

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
