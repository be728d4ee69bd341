// Fidelity of the test xenstored: Debian's real xenstore-read/-write/-list/-rm and our own client agree with it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeXenstored, type FakeXenstored } from './fake-xenstored';
import { openXenStore, TRANSACTION_TRIES } from '../../src/edges/xenstore';

const run = promisify(execFile);
let dir: string;
let xs: FakeXenstored;
const env = () => ({ ...process.env, XENSTORED_PATH: xs.socketPath });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vnd-xs-'));
  xs = await startFakeXenstored(join(dir, 'socket'));
});
afterAll(async () => {
  await xs.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fake xenstored against Debian xenstore-utils', () => {
  it('xenstore-write then xenstore-read round-trips, relative paths under /local/domain/0', async () => {
    await run('xenstore-write', ['backend/vif/3/0/mac', '00:16:3e:00:00:03', '/local/domain/3/name', 'web'], { env: env() });
    expect(xs.read('/local/domain/0/backend/vif/3/0/mac')).toBe('00:16:3e:00:00:03');
    const { stdout } = await run('xenstore-read', ['/local/domain/0/backend/vif/3/0/mac', '/local/domain/3/name'], { env: env() });
    expect(stdout).toBe('00:16:3e:00:00:03\nweb\n');
  });

  it('xenstore-read of a missing node fails as against the real daemon', async () => {
    await expect(run('xenstore-read', ['/local/domain/99/name'], { env: env() })).rejects.toMatchObject({ code: 1 });
  });

  it('xenstore-list and xenstore-rm see the tree', async () => {
    xs.write('/local/domain/0/backend/vif/4/0/handle', '0');
    xs.write('/local/domain/0/backend/vif/4/1/handle', '1');
    const { stdout } = await run('xenstore-list', ['/local/domain/0/backend/vif/4'], { env: env() });
    expect(stdout.split('\n').filter(Boolean).sort()).toEqual(['0', '1']);
    await run('xenstore-rm', ['/local/domain/0/backend/vif/4/1'], { env: env() });
    expect(xs.list('/local/domain/0/backend/vif/4')).toEqual(['0']);
  });

  it('our client pipelines reads, maps ENOENT to undefined and writes values without NUL', async () => {
    const client = await openXenStore({ XENSTORED_PATH: xs.socketPath });
    try {
      await client.write('/local/domain/0/backend/vif/5/0/hotplug-status', 'connected');
      const values = await client.readMany(['/local/domain/0/backend/vif/5/0/hotplug-status', '/nope', '/local/domain/3/name']);
      expect(values).toEqual(['connected', undefined, 'web']);
      expect(await client.directory('/local/domain/0/backend/vif/5')).toEqual(['0']);
    } finally {
      client.close();
    }
    const { stdout } = await run('xenstore-read', ['/local/domain/0/backend/vif/5/0/hotplug-status'], { env: env() });
    expect(stdout).toBe('connected\n');
  });
});

describe('fake xenstored permissions, as C xenstored checks them, for a guest connected as its domid', () => {
  let guestEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    guestEnv = { ...process.env, XENSTORED_PATH: await xs.listenAsDomain(7) };
    xs.write('/local/domain/7/name', 'web');
    xs.setPerms('/local/domain/7', ['n0', 'r7']);
    xs.setPerms('/local/domain/7/name', ['n0', 'r7']);
    xs.write('/local/domain/7/data/owned-by-guest', 'x');
    xs.setPerms('/local/domain/7/data', ['n7']);
    xs.write('/local/domain/7/data/dom0-node', 'y');
    xs.setPerms('/local/domain/7/data/dom0-node', ['n0']);
    xs.write('/local/domain/7/shared', '');
    xs.setPerms('/local/domain/7/shared', ['n0', 'b7']);
    xs.write('/secret/key', 's');
  });

  it('reads what it may (relative paths from its own home) and nothing else', async () => {
    expect((await run('xenstore-read', ['name'], { env: guestEnv })).stdout).toBe('web\n');
    await expect(run('xenstore-read', ['/secret/key'], { env: guestEnv })).rejects.toMatchObject({ code: 1 });
    await expect(run('xenstore-read', ['/local/domain/0/backend'], { env: guestEnv })).rejects.toMatchObject({ code: 1 });
  });

  it('EACCES for a node it may not read, and for a missing node whose nearest ancestor it may not read; ENOENT otherwise', async () => {
    const client = await openXenStore({ XENSTORED_PATH: `${xs.socketPath}.dom7` });
    try {
      await expect(client.read('/secret/key')).rejects.toMatchObject({ details: { code: 'EACCES' } });
      await expect(client.read('/secret/missing/deeper')).rejects.toMatchObject({ details: { code: 'EACCES' } });
      expect(await client.read('/local/domain/7/missing')).toBeUndefined();
      await expect(client.write('/local/domain/7/name', 'evil')).rejects.toMatchObject({ details: { code: 'EACCES' } });
      await expect(client.write('/local/domain/7/new-node', 'x')).rejects.toMatchObject({ details: { code: 'EACCES' } });
      await expect(client.rm('/local/domain/7/name')).rejects.toMatchObject({ details: { code: 'EACCES' } });
      await expect(client.setPerms('/local/domain/7/name', ['n7'])).rejects.toMatchObject({ details: { code: 'EACCES' } });
    } finally {
      client.close();
    }
    expect(xs.read('/local/domain/7/name')).toBe('web');
  });

  it('a node a guest creates inherits the parent\'s perms with the guest as owner; the guest may not give it away', async () => {
    await run('xenstore-write', ['shared/mine', 'v'], { env: guestEnv });
    expect(xs.perms('/local/domain/7/shared/mine')).toEqual(['n7', 'b7']);
    await expect(run('xenstore-chmod', ['shared/mine', 'n0'], { env: guestEnv })).rejects.toMatchObject({ code: 1 });
    await run('xenstore-chmod', ['shared/mine', 'n7', 'r0'], { env: guestEnv });
    expect(xs.perms('/local/domain/7/shared/mine')).toEqual(['n7', 'r0']);
  });

  it('a guest removes a node it may write with its whole subtree, dom0-owned children included', async () => {
    await run('xenstore-rm', ['data'], { env: guestEnv });
    expect(xs.read('/local/domain/7/data/dom0-node')).toBeUndefined();
    expect(xs.list('/local/domain/7')).not.toContain('data');
  });

  it('dom0 transactions commit atomically and are run again when a node they touched changed meanwhile (EAGAIN)', async () => {
    const client = await openXenStore({ XENSTORED_PATH: xs.socketPath });
    let runs = 0;
    try {
      await client.transaction(async (tx) => {
        runs++;
        const value = await tx.read('/counter');
        if (runs === 1) xs.write('/counter', 'changed behind its back');
        await tx.write('/counter', `${value ?? ''}+1`);
        expect(xs.read('/counter')).not.toMatch(/\+1$/); // invisible until the commit
      });
    } finally {
      client.close();
    }
    expect(runs).toBe(2);
    expect(xs.read('/counter')).toBe('changed behind its back+1');
  });

  it('a transaction whose work fails is abandoned: nothing it wrote lands; one that keeps conflicting gives up with EAGAIN', async () => {
    const client = await openXenStore({ XENSTORED_PATH: xs.socketPath });
    try {
      await expect(client.transaction(async (tx) => {
        await tx.write('/abandoned/a', '1');
        await tx.write('/local/domain/7/name', 'x');
        throw new Error('changed my mind');
      })).rejects.toThrow('changed my mind');
      expect(xs.read('/abandoned/a')).toBeUndefined();
      expect(xs.read('/local/domain/7/name')).toBe('web');
      let runs = 0;
      await expect(client.transaction(async (tx) => {
        runs++;
        await tx.read('/contended');
        xs.write('/contended', String(runs));
        await tx.write('/contended', 'mine');
      })).rejects.toMatchObject({ details: { code: 'EAGAIN' } });
      expect(runs).toBe(TRANSACTION_TRIES);
      expect(xs.read('/contended')).toBe(String(TRANSACTION_TRIES));
    } finally {
      client.close();
    }
  });
});
