import { describe, expect, it } from 'vitest';
import { readBackend } from '../../src/hook/backend';
import type { XenStore } from '../../src/edges/xenstore';

/** A xenstore holding `nodes`, recording each round trip (readMany or read) and the paths it asked for. */
function store(nodes: Record<string, string>): { xs: XenStore; trips: string[][] } {
  const trips: string[][] = [];
  const xs = {
    readMany: async (paths: readonly string[]) => { trips.push([...paths]); return paths.map((p) => nodes[p]); },
    read: async (path: string) => { trips.push([path]); return nodes[path]; },
  } as unknown as XenStore;
  return { xs, trips };
}

const be = '/local/domain/0/backend/vif/7/0';
const backend = { [`${be}/frontend-id`]: '7', [`${be}/handle`]: '0', [`${be}/mac`]: '00:16:3e:00:00:07' };

describe('readBackend', () => {
  it('xl: the backend nodes and the name of the domain the path names, in one round trip', async () => {
    const { xs, trips } = store({ ...backend, '/local/domain/7/name': 'web' });
    const info = await readBackend(xs, be, { needName: true, strict: true });
    expect(info).toMatchObject({ frontendId: 7, handle: 0, y: 1, domainName: 'web' });
    expect(trips).toHaveLength(1);
    expect(trips[0]).toContain('/local/domain/7/name');
  });

  it('a frontend-id other than the path\'s domid: the name is that frontend\'s, read in a second round trip', async () => {
    const { xs, trips } = store({ ...backend, [`${be}/frontend-id`]: '8', '/local/domain/7/name': 'wrong', '/local/domain/8/name': 'db' });
    expect((await readBackend(xs, be, { needName: true, strict: true })).domainName).toBe('db');
    expect(trips).toEqual([expect.any(Array), ['/local/domain/8/name']]);
  });

  it('xend: the backend\'s own domain node wins; offline (no name needed) reads only the backend', async () => {
    const xend = store({ ...backend, [`${be}/domain`]: 'web-xend', '/local/domain/7/name': 'other' });
    expect((await readBackend(xend.xs, be, { needName: true, strict: true })).domainName).toBe('web-xend');
    const off = store(backend);
    await readBackend(off.xs, be, { needName: false, strict: false });
    expect(off.trips.flat().some((p) => p.endsWith('/name'))).toBe(false);
  });
});
