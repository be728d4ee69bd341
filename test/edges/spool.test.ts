// The on-disk queue: requests appear whole and in order, results wake their waiter through inotify, leftovers are swept.
import { mkdtempSync, rmSync, readdirSync, existsSync, mkdirSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSpool, ORPHAN_AGE_MS } from '../../src/edges/spool';

let dir: string;
beforeEach(() => { dir = join(mkdtempSync(join(tmpdir(), 'vnd-spool-')), 'queue'); });
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

describe('spool', () => {
  it('lists requests in the order they were queued, across spool instances (processes)', async () => {
    const tickets = [];
    for (let i = 0; i < 5; i++) tickets.push(await createSpool(dir).enqueue({ n: i }));
    const pending = await createSpool(dir).pending();
    expect(pending.map((p) => p.data)).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
    expect(pending.map((p) => p.id)).toEqual(tickets.map((t) => t.id));
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual([]); // no staging directory left
    for (const t of tickets) await t.close();
  });

  it('a published result wakes its waiter at once (inotify), and the request is no longer pending', async () => {
    const spool = createSpool(dir);
    const ticket = await spool.enqueue({ n: 1 });
    const started = Date.now();
    const waiting = ticket.wait(5000);
    setTimeout(() => { void spool.publish(ticket.id, { result: 'done', batchSize: 1, appliedBy: 1 }); }, 50);
    expect(await waiting).toEqual({ result: 'done', batchSize: 1, appliedBy: 1 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await spool.pending()).toEqual([]);
    expect(await spool.hasPending()).toBe(false);
    await ticket.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('past the inotify instance limit a waiter listens on a socket in its directory, and publishing wakes it there', async () => {
    const spool = createSpool(dir, { inotify: false });
    const ticket = await spool.enqueue({ n: 1 });
    expect(readdirSync(join(dir, ticket.id)).sort()).toEqual(['request', 'wake']);
    const started = Date.now();
    const waiting = ticket.wait(5000);
    setTimeout(() => { void createSpool(dir).publish(ticket.id, { result: 'done', batchSize: 1, appliedBy: 1 }); }, 50);
    expect((await waiting)?.result).toBe('done');
    expect(Date.now() - started).toBeLessThan(1000);
    await ticket.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('wait gives up after its time with undefined; a withdrawn request is gone and publishing to it is harmless', async () => {
    const spool = createSpool(dir);
    const ticket = await spool.enqueue({ n: 1 });
    expect(await ticket.wait(100)).toBeUndefined();
    expect(await spool.hasPending()).toBe(true);
    await ticket.close();
    await spool.publish(ticket.id, { result: 'late', batchSize: 1, appliedBy: 1 });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a corrupt request is handed on as such (the applier refuses it), never thrown', async () => {
    const spool = createSpool(dir);
    const ticket = await spool.enqueue({ n: 1 });
    writeFileSync(join(dir, ticket.id, 'request'), '{not json');
    expect(await spool.pending()).toEqual([{ id: ticket.id, data: { kind: 'unparsable' } }]);
    await ticket.close();
  });

  it('sweeps what killed hooks left: applied requests never read, and half-made staging directories', async () => {
    const spool = createSpool(dir);
    const ticket = await spool.enqueue({ n: 1 });
    await spool.publish(ticket.id, { result: 'unread', batchSize: 1, appliedBy: 1 });
    mkdirSync(join(dir, '.new-1-abc'));
    const old = new Date(Date.now() - ORPHAN_AGE_MS - 1000);
    await spool.pending();
    expect(existsSync(join(dir, ticket.id))).toBe(true); // young: its hook may still read it
    utimesSync(join(dir, ticket.id), old, old);
    utimesSync(join(dir, '.new-1-abc'), old, old);
    await spool.pending();
    expect(readdirSync(dir)).toEqual([]);
  });
});
