import { describe, expect, it } from 'vitest';
import { importTxn, keys, parseSnapshot, planBind, planHostLease, planImport, planPoolForget, planReservation, planUnbind, poolMachines, type RegistryKv } from '../../src/core/registry';
import { parseScheme } from '../../src/core/scheme';
import { P, bound, name, snap } from './registry-fixtures';

const scheme = parseScheme('10.0.0.0/8');
const k = keys(P);
const MAC = '00:16:3e:00:00:01';
const OTHER = '00:16:3e:00:00:99';
const ME = '192.168.77.11';
const THEM = '192.168.77.12';

describe('parseSnapshot', () => {
  it('reads names, addresses, bindings and hosts, and ignores keys of other shapes or other prefixes', () => {
    const s = parseSnapshot(P, [
      { key: `${P}names/web`, value: '10.0.1.1', modRevision: 3, lease: '0' },
      { key: `${P}names/bad`, value: 'not an address', modRevision: 3, lease: '0' },
      { key: `${P}addresses/10.0.1.1`, value: 'web', modRevision: 3, lease: '0' },
      { key: `${P}bindings/web`, value: JSON.stringify({ mac: MAC, ip: '10.0.1.1', host: ME }), modRevision: 9, lease: '77' },
      { key: `${P}bindings/junk`, value: '{not json', modRevision: 9, lease: '77' },
      { key: `${P}hosts/${ME}`, value: '{}', modRevision: 4, lease: '77' },
      { key: `${P}future/x/y`, value: '1', modRevision: 4, lease: '0' },
      { key: '/other/names/x', value: '10.0.9.1', modRevision: 4, lease: '0' },
      // what no hook writes never reaches /etc/hosts, /etc/ethers or a route
      { key: `${P}names/evil\n10.0.0.1`, value: '10.0.6.1', modRevision: 3, lease: '0' },
      { key: `${P}names/Upper`, value: '10.0.6.2', modRevision: 3, lease: '0' },
      { key: `${P}addresses/10.0.6.3`, value: 'x y', modRevision: 3, lease: '0' },
      { key: `${P}bindings/db`, value: JSON.stringify({ mac: MAC, ip: '10.0.2.1', host: 'via 1.2.3.4' }), modRevision: 9, lease: '77' },
      { key: `${P}bindings/mail`, value: JSON.stringify({ mac: 'ff:ff:ff:ff:ff:ff x', ip: '10.0.3.1', host: ME }), modRevision: 9, lease: '77' },
      { key: `${P}hosts/not-an-address`, value: '{}', modRevision: 4, lease: '77' },
      { key: `${P}forgotten/10.0.4.1`, value: 'old', modRevision: 5, lease: '0' },
      { key: `${P}forgotten/10.0.4.2`, value: 'bad name', modRevision: 5, lease: '0' },
    ], 12);
    expect([...s.forgotten]).toEqual([['10.0.4.1', 'old']]);
    expect([...s.names.keys()]).toEqual(['web']);
    expect([...s.addresses.keys()]).toEqual(['10.0.1.1']);
    expect(s.addresses.get('10.0.1.1')).toBe('web');
    expect([...s.bindings.keys()]).toEqual(['web']);
    expect([...s.hosts.keys()]).toEqual([ME]);
    expect(s.bindings.get('web')).toEqual({ mac: MAC, ip: '10.0.1.1', host: ME, modRevision: 9, lease: '77' });
    expect(s.bindings.has('junk')).toBe(false);
    expect(s.hosts.get(ME)).toEqual({ address: ME, lease: '77', modRevision: 4 });
    expect(s.revision).toBe(12);
  });
});

describe('planReservation', () => {
  it.each([
    ['a registered name keeps its address', [...name('web', '10.0.5.1')], { domainName: 'web', y: 1 }, { kind: 'registered', vmIp: '10.0.5.1' }],
    ['a new name gets the lowest number free in the pool', [...name('a', '10.0.1.1'), ...name('b', '10.0.3.1')], { domainName: 'web', y: 1 }, { kind: 'reserve', vmIp: '10.0.2.1' }],
    ['a 2nd interface shares its domain\'s number', [...name('web', '10.0.4.1')], { domainName: 'web', y: 2 }, { kind: 'reserve', vmIp: '10.0.4.2' }],
    ['a pinned ip is registered as asked', [], { domainName: 'web', y: 1, pinnedIp: '10.0.9.1' }, { kind: 'reserve', vmIp: '10.0.9.1' }],
  ] as const)('%s', (_, rows, request, expected) => {
    expect(planReservation(scheme, P, snap([...rows]), request)).toMatchObject(expected);
  });

  it('registers a new name and its address only if neither exists (create revision 0), one transaction', () => {
    const plan = planReservation(scheme, P, snap([]), { domainName: 'web', y: 1 });
    expect(plan.kind).toBe('reserve');
    if (plan.kind !== 'reserve') return;
    expect(plan.txn.compare).toEqual([
      { key: k.name('web'), target: 'CREATE', createRevision: 0 },
      { key: k.address('10.0.1.1'), target: 'CREATE', createRevision: 0 },
    ]);
    expect(plan.txn.success).toEqual([{ put: { key: k.name('web'), value: '10.0.1.1' } }, { put: { key: k.address('10.0.1.1'), value: 'web' } }]);
  });

  it('a domain new to the pool seen first on its 2nd interface registers both names', () => {
    const plan = planReservation(scheme, P, snap([]), { domainName: 'web', y: 2 });
    expect(plan.kind === 'reserve' && plan.names).toEqual([['web', '10.0.1.1'], ['web-2', '10.0.1.2']]);
  });

  it('never hands out a number this dom0\'s own files use (names not imported yet)', () => {
    const plan = planReservation(scheme, P, snap([]), { domainName: 'web', y: 1 }, { hosts: '10.0.1.1\told\n', ethers: `${OTHER} 10.0.2.1\n` });
    expect(plan).toMatchObject({ kind: 'reserve', vmIp: '10.0.3.1' });
  });

  it('after lost races, can aim past the lowest free number', () => {
    expect(planReservation(scheme, P, snap([...name('a', '10.0.1.1')]), { domainName: 'web', y: 1 }, undefined, 2)).toMatchObject({ vmIp: '10.0.4.1' });
  });

  it('refuses a pinned address another name holds in the pool', () => {
    expect(() => planReservation(scheme, P, snap([...name('db', '10.0.9.1')]), { domainName: 'web', y: 1, pinnedIp: '10.0.9.1' })).toThrow(/already recorded .* for db/);
  });
});

describe('planBind', () => {
  const req = (extra: Partial<Parameters<typeof planBind>[2]> = {}) => ({ hostname: 'web', binding: { mac: MAC, ip: '10.0.1.1', host: ME }, lease: '111', incoming: false, ...extra });

  it('creates a binding on this host\'s lease only if none exists', () => {
    expect(planBind(P, snap([]), req())).toEqual({
      compare: [{ key: k.binding('web'), target: 'CREATE', createRevision: 0 }],
      success: [{ put: { key: k.binding('web'), value: JSON.stringify({ mac: MAC, ip: '10.0.1.1', host: ME }), lease: '111' } }],
    });
  });

  it('an identical binding needs no transaction', () => {
    expect(planBind(P, snap([bound('web', '10.0.1.1', MAC, ME)]), req())).toBeUndefined();
  });

  it.each([
    ['this host, new lease', bound('web', '10.0.1.1', MAC, ME, 7, '222'), {}],
    ['another host, same MAC (a migration)', bound('web', '10.0.1.1', MAC, THEM), {}],
    ['another host, another MAC, incoming', bound('web', '10.0.1.1', OTHER, THEM), { incoming: true }],
    ['this host, another MAC (a restart with a new random MAC)', bound('web', '10.0.1.1', OTHER, ME), {}],
  ] as const)('replaces exactly the binding it read: %s', (_, row, extra) => {
    expect(planBind(P, snap([row]), req(extra))?.compare).toEqual([{ key: k.binding('web'), target: 'MOD', modRevision: 7 }]);
  });

  it('refuses a second running domain of the same name on another host', () => {
    expect(() => planBind(P, snap([bound('web', '10.0.1.1', OTHER, THEM)]), req())).toThrow(/runs on pool host 192.168.77.12 with MAC 00:16:3e:00:00:99/);
  });
});

describe('planUnbind', () => {
  it.each([
    ['ours: deleted if unchanged', [bound('web', '10.0.1.1', MAC, ME, 9)], { compare: [{ key: k.binding('web'), target: 'MOD', modRevision: 9 }], success: [{ delete: { key: k.binding('web') } }] }],
    ['moved to another host (migrated): left alone', [bound('web', '10.0.1.1', MAC, THEM)], undefined],
    ['absent: nothing', [], undefined],
  ] as const)('%s', (_, rows, expected) => {
    expect(planUnbind(P, snap([...rows]), 'web', ME)).toEqual(expected);
  });
});

describe('planHostLease', () => {
  it('creates the host record, or replaces the one it read', () => {
    expect(planHostLease(P, snap([]), ME, '5').compare).toEqual([{ key: k.host(ME), target: 'CREATE', createRevision: 0 }]);
    expect(planHostLease(P, snap([[`hosts/${ME}`, '{}', 8, '4']]), ME, '5').compare).toEqual([{ key: k.host(ME), target: 'MOD', modRevision: 8 }]);
  });
});

describe('planImport', () => {
  it('registers what the pool lacks, keeps what agrees, reports and skips every clash', () => {
    const pool = snap([...name('web', '10.0.1.1'), ...name('db', '10.0.2.1')]);
    const plan = planImport(scheme, pool, [
      ['web', '10.0.1.1'], // already there
      ['db', '10.0.7.1'], // the pool has db elsewhere
      ['mail', '10.0.2.1'], // db's address in the pool
      ['ci', '10.0.3.1'], ['ci-2', '10.0.3.2'], // new
      ['ci-copy', '10.0.3.1'], // same address as a name imported just before
      ['router', '10.0.1.129'], // a dom0-side address: not a guest name
    ]);
    expect(plan.register).toEqual([['ci', '10.0.3.1'], ['ci-2', '10.0.3.2']]);
    expect(plan.already).toEqual(['web']);
    expect(plan.conflicts).toEqual(['db: here 10.0.7.1, in the pool 10.0.2.1', 'mail: 10.0.2.1 is db\'s in the pool', 'ci-copy: 10.0.3.1 is ci\'s in the pool']);
  });

  it('each imported name is its own create-if-absent transaction', () => {
    expect(importTxn(P, 'ci', '10.0.3.1').compare).toEqual([
      { key: k.name('ci'), target: 'CREATE', createRevision: 0 }, { key: k.address('10.0.3.1'), target: 'CREATE', createRevision: 0 },
    ]);
  });
});

describe('planPoolForget', () => {
  const registry = snap([...name('web', '10.0.1.1'), ...name('web-2', '10.0.1.2'), ...name('db', '10.0.2.1'), ...name('ci', '10.0.3.1'),
    bound('db', '10.0.2.1', MAC, THEM), bound('ci', '10.0.3.1', MAC, ME)]);

  it('releases every interface of the machine: name and address guard deleted, a tombstone left, only if unchanged and not bound', () => {
    const plan = planPoolForget(scheme, P, registry, new Set([1]), ME, false);
    expect(plan.refused).toEqual([]);
    expect(plan.release.map((r) => [r.name, r.ip])).toEqual([['web', '10.0.1.1'], ['web-2', '10.0.1.2']]);
    expect(plan.release[0]!.txn).toEqual({
      compare: [{ key: k.name('web'), target: 'MOD', modRevision: 5 }, { key: k.binding('web'), target: 'CREATE', createRevision: 0 }],
      success: [{ delete: { key: k.name('web') } }, { delete: { key: k.address('10.0.1.1') } }, { put: { key: k.forgotten('10.0.1.1'), value: 'web' } }],
    });
  });

  it.each([
    ['bound on another host: refused, even with force', 2, true, [], ['db (10.0.2.1) runs on pool host 192.168.77.12']],
    ['bound here: refused without force', 3, false, [], ['ci (10.0.3.1) runs on this dom0']],
    ['bound here with force: released with its binding', 3, true, ['ci'], []],
    ['a machine the pool does not hold: nothing', 9, false, [], []],
  ] as const)('%s', (_, machine, force, released, refused) => {
    const plan = planPoolForget(scheme, P, registry, new Set([machine]), ME, force);
    expect(plan.release.map((r) => r.name)).toEqual(released);
    expect(plan.refused).toEqual(refused);
    if (released.length) expect(plan.release[0]!.txn.success).toContainEqual({ delete: { key: k.binding('ci') } });
  });

  it('poolMachines: the machine numbers of the names picked, or of the bound ones', () => {
    expect([...poolMachines(scheme, registry, (n) => n.startsWith('web'))]).toEqual([1]);
    expect([...poolMachines(scheme, registry, (_, y) => y === 2)]).toEqual([1]);
    expect([...poolMachines(scheme, registry, () => true)].sort()).toEqual([1, 2, 3]);
    expect([...poolMachines(scheme, registry, () => true, true)].sort()).toEqual([2, 3]);
  });
});
