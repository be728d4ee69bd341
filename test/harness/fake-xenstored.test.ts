// Fidelity of the test xenstored: Debian's real xenstore-read/-write/-list/-rm and our own client agree with it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeXenstored, type FakeXenstored } from './fake-xenstored';
import { openXenStore } from '../../src/edges/xenstore';

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
