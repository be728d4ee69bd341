// The locked, guarded, atomic file store on a real filesystem: concurrency inside one process, rollback of a half-done pair, temp-file sweeping.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, symlinkSync, statSync, chmodSync, readdirSync, existsSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/edges/file-store';
import { acquireLock } from '../../src/edges/lock';

let dir: string;
const store = (overrides: Partial<Parameters<typeof createFileStore>[0]> = {}) => createFileStore({
  hostsFile: join(dir, 'hosts'), ethersFile: join(dir, 'ethers'), lockPath: join(dir, 'lock'), staleMs: 2000, waitMs: 10_000, ...overrides,
});

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vnd-fs-')); chmodSync(dir, 0o755); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('file store', () => {
  it('reads missing files as empty and creates them 0644', async () => {
    await store().transact((snap) => ({ update: { hosts: `${snap.hosts}a\n`, ethers: `${snap.ethers}b\n` }, result: null }));
    expect(readFileSync(join(dir, 'hosts'), 'utf8')).toBe('a\n');
    expect(statSync(join(dir, 'ethers')).mode & 0o777).toBe(0o644);
  });

  it('keeps mode, writes through a symlink and preserves non-UTF-8 bytes', async () => {
    writeFileSync(join(dir, 'real-hosts'), Buffer.from([0xff, 0xfe, 0x0a]));
    chmodSync(join(dir, 'real-hosts'), 0o640);
    symlinkSync('real-hosts', join(dir, 'hosts'));
    await store().transact((snap) => ({ update: { hosts: `${snap.hosts}x\n` }, result: null }));
    expect(readFileSync(join(dir, 'real-hosts'))).toEqual(Buffer.from([0xff, 0xfe, 0x0a, 0x78, 0x0a]));
    expect(statSync(join(dir, 'real-hosts')).mode & 0o777).toBe(0o640);
    expect(existsSync(join(dir, 'hosts'))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['hosts', 'real-hosts']);
  });

  it('serialises 40 concurrent read-modify-writes without losing one', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) =>
      store().transact((snap) => ({ update: { hosts: `${snap.hosts}line ${i}\n` }, result: null }))));
    const lines = readFileSync(join(dir, 'hosts'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(40);
    expect(new Set(lines).size).toBe(40);
  });

  it('a holder whose lock was taken over while it planned writes nothing (LOCK_LOST), and undoes nothing of the new holder\'s', async () => {
    writeFileSync(join(dir, 'hosts'), 'old\n');
    const files = store();
    const lock = await acquireLock({ lockPath: join(dir, 'lock'), staleMs: 2000, waitMs: 1000 });
    await expect(files.transactHeld(lock, (snap) => {
      rmSync(join(dir, 'lock'), { recursive: true }); // taken over as abandoned while this holder was planning
      writeFileSync(join(dir, 'hosts'), 'new holder\n');
      return { update: { hosts: `${snap.hosts}ours\n`, ethers: 'ours\n' }, result: null };
    })).rejects.toThrow(expect.objectContaining({ code: 'LOCK_LOST' }));
    await lock.release();
    expect(readFileSync(join(dir, 'hosts'), 'utf8')).toBe('new holder\n');
    expect(existsSync(join(dir, 'ethers'))).toBe(false);
  });

  it('re-plans when the file changed under a holder (a writer that ignored the lock)', async () => {
    writeFileSync(join(dir, 'hosts'), 'old\n');
    let calls = 0;
    await store().transact((snap) => {
      calls++;
      if (calls === 1) writeFileSync(join(dir, 'hosts'), 'someone else\n');
      return { update: { hosts: `${snap.hosts}mine\n` }, result: null };
    });
    expect(calls).toBe(2);
    expect(readFileSync(join(dir, 'hosts'), 'utf8')).toBe('someone else\nmine\n');
  });

  it('puts the first file back when the second cannot be written', async () => {
    writeFileSync(join(dir, 'hosts'), 'h\n');
    const s = store({ ethersFile: join(dir, 'missing-dir', 'ethers') });
    await expect(s.transact(() => ({ update: { hosts: 'h2\n', ethers: 'e\n' }, result: null }))).rejects.toThrow(/cannot (read|write) .*ethers/);
    expect(readFileSync(join(dir, 'hosts'), 'utf8')).toBe('h\n');
  });

  it('removes temp files a killed writer left behind, and never an older look-alike', async () => {
    writeFileSync(join(dir, 'hosts.20240101'), 'admin backup');
    const since = Date.now();
    writeFileSync(join(dir, 'hosts.123456'), 'partial');
    writeFileSync(join(dir, 'hosts.backup'), 'admin file');
    const old = new Date(since - 60_000);
    utimesSync(join(dir, 'hosts.20240101'), old, old);
    writeFileSync(join(dir, 'lock.tmpfiles'), `${join(dir, 'hosts')}\t${since}\n`);
    await store().transact(() => ({ update: {}, result: null }));
    expect(readdirSync(dir).sort()).toEqual(['hosts.20240101', 'hosts.backup']);
  });

  it('never follows a symlink planted at the journal\'s name', async () => {
    if (process.getuid?.() !== 0) return;
    writeFileSync(join(dir, 'victim'), 'precious\n');
    symlinkSync(join(dir, 'victim'), join(dir, 'lock.tmpfiles'));
    await store().transact(() => ({ update: { hosts: 'x\n' }, result: null }));
    expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('precious\n');
    expect(readFileSync(join(dir, 'hosts'), 'utf8')).toBe('x\n');
  });

  it('refuses a lock in a directory others can write to', async () => {
    if (process.getuid?.() !== 0) return;
    const open = mkdtempSync(join(tmpdir(), 'vnd-open-'));
    chmodSync(open, 0o1777);
    try {
      await expect(store({ lockPath: join(open, 'lock') }).transact(() => ({ update: {}, result: null }))).rejects.toThrow(/writable by users other than root/);
    } finally {
      rmSync(open, { recursive: true, force: true });
    }
  });

  it('refuses a directory others can write to (symlink planting)', async () => {
    if (process.getuid?.() !== 0) return;
    chmodSync(dir, 0o777);
    await expect(store().transact(() => ({ update: { hosts: 'x\n' }, result: null }))).rejects.toThrow(/writable by users other than root/);
    chmodSync(dir, 0o755);
  });
});
