import { describe, expect, it } from 'vitest';
import { desiredRoutes, dropForgotten, mergePoolNames, planReconcile, planRoutes } from '../../src/core/pool-materialise';
import { parseHosts, renderHosts } from '../../src/core/hosts-file';
import { parseEthers } from '../../src/core/ethers-file';
import { keys } from '../../src/core/registry';
import { parseScheme } from '../../src/core/scheme';
import { P, bound, name, snap } from './registry-fixtures';

const scheme = parseScheme('10.0.0.0/8');
const ME = '192.168.77.11';
const B = '192.168.77.12';
const C = '192.168.77.13';
const MAC = '00:16:3e:00:00:01';

const host = (address: string, lease = '111'): [string, string, number, string] => [`hosts/${address}`, '{}', 3, lease];

describe('mergePoolNames', () => {
  it.each([
    ['appends the names the file lacks, after every line it keeps', '127.0.0.1 localhost\n# mine\n', [['web', '10.0.1.1'], ['db', '10.0.2.1']], '127.0.0.1 localhost\n# mine\n10.0.1.1\tweb\n10.0.2.1\tdb\n', []],
    ['a name already there at its address: nothing', '10.0.1.1 web\n', [['web', '10.0.1.1']], '10.0.1.1 web\n', []],
    ['an alias counts as the name', '10.0.1.1 web www\n', [['www', '10.0.1.1']], '10.0.1.1 web www\n', []],
    ['the file has the name elsewhere: reported, not changed', '10.0.9.1 web\n', [['web', '10.0.1.1']], '10.0.9.1 web\n', ['web is at 10.0.9.1 in this /etc/hosts but at 10.0.1.1 in the pool']],
    ['the file gives the address to another name: reported, not changed', '10.0.1.1 mail\n', [['web', '10.0.1.1']], '10.0.1.1 mail\n', ['10.0.1.1 is mail in this /etc/hosts but web in the pool']],
    ['no final newline is kept working', '127.0.0.1 localhost', [['web', '10.0.1.1']], '127.0.0.1 localhost\n10.0.1.1\tweb\n', []],
  ] as const)('%s', (_, text, names, after, conflicts) => {
    const merged = mergePoolNames(parseHosts(text), names);
    expect(renderHosts(merged.hosts)).toBe(after);
    expect(merged.conflicts).toEqual(conflicts);
  });
});

describe('routes to other hosts\' guests', () => {
  const registry = snap([
    host(ME), host(B),
    bound('web', '10.0.1.1', MAC, ME), bound('db', '10.0.2.1', MAC, B), bound('ci', '10.0.3.1', MAC, C), // C has no live host record
    bound('odd', '10.0.4.129', MAC, B), // a dom0-side address is never routed
  ]);

  it('one /32 per live guest of another live host, via that host', () => {
    expect(desiredRoutes(scheme, registry, ME)).toEqual(new Map([['10.0.2.1', B]]));
  });

  it.each([
    ['nothing there yet', [], [['10.0.2.1', B]], []],
    ['already right', [['10.0.2.1', B]], [], []],
    ['the guest moved to another host', [['10.0.2.1', C]], [['10.0.2.1', B]], []],
    ['a guest that stopped, or came here', [['10.0.2.1', B], ['10.0.1.1', B]], [], ['10.0.1.1']],
  ] as const)('%s', (_, current, replace, remove) => {
    expect(planRoutes(new Map(current), desiredRoutes(scheme, registry, ME))).toEqual({ replace, remove });
  });
});

describe('planReconcile', () => {
  const ethers = (text: string) => parseEthers(text);

  it('registers a line of /etc/ethers whose binding is missing (an online while etcd was away), on this host\'s lease', () => {
    const result = planReconcile(scheme, P, snap([...name('web', '10.0.1.1')]), ME, '222', ethers(`${MAC} 10.0.1.1\n`));
    expect(result.changes.map((c) => c.note)).toEqual([`registered web 10.0.1.1 ${MAC}`]);
    expect(result.changes[0]!.txn.success).toEqual([{ put: { key: keys(P).binding('web'), value: JSON.stringify({ mac: MAC, ip: '10.0.1.1', host: ME }), lease: '222' } }]);
  });

  it('moves its bindings to a renewed lease', () => {
    const result = planReconcile(scheme, P, snap([...name('web', '10.0.1.1'), bound('web', '10.0.1.1', MAC, ME, 7, '111')]), ME, '222', ethers(`${MAC} 10.0.1.1\n`));
    expect(result.changes[0]!.txn.compare).toEqual([{ key: keys(P).binding('web'), target: 'MOD', modRevision: 7 }]);
  });

  it('drops a binding of ours with no line left (an offline while etcd was away)', () => {
    const result = planReconcile(scheme, P, snap([...name('web', '10.0.1.1'), bound('web', '10.0.1.1', MAC, ME, 9)]), ME, '111', ethers(''));
    expect(result.changes).toEqual([{ txn: { compare: [{ key: keys(P).binding('web'), target: 'MOD', modRevision: 9 }], success: [{ delete: { key: keys(P).binding('web') } }] }, note: 'dropped web\'s binding: it no longer runs here' }]);
  });

  it('leaves a guest that another host runs now, and names what it cannot register', () => {
    const result = planReconcile(scheme, P, snap([...name('web', '10.0.1.1'), bound('web', '10.0.1.1', MAC, B)]), ME, '111',
      ethers(`${MAC} 10.0.1.1\n00:16:3e:00:00:02 10.0.8.1\n08:00:20:00:00:01 pluto\n`));
    expect(result.changes).toEqual([]);
    expect(result.notes).toEqual([
      `web (10.0.1.1) runs on ${B} now; /etc/ethers here still binds it to ${MAC}`,
      '00:16:3e:00:00:02 10.0.8.1 is in /etc/ethers but no pool name has that address (vif-nat-dns-admin pool import)',
    ]);
  });

  it('an identical binding needs nothing', () => {
    expect(planReconcile(scheme, P, snap([...name('web', '10.0.1.1'), bound('web', '10.0.1.1', MAC, ME)]), ME, '111', ethers(`${MAC} 10.0.1.1\n`)))
      .toEqual({ changes: [], notes: [] });
  });
});

describe('dropForgotten', () => {
  const tomb = (ip: string, n: string): [string, string] => [`forgotten/${ip}`, n];
  it.each([
    ['a released name\'s line goes, every other line stays byte for byte', '127.0.0.1 localhost\n10.0.1.1\tweb\n# mine\n10.0.2.1\tdb\n', [tomb('10.0.1.1', 'web')], '', '127.0.0.1 localhost\n# mine\n10.0.2.1\tdb\n', []],
    ['re-registered at the same address since: stays', '10.0.1.1\tweb\n', [tomb('10.0.1.1', 'web'), ...name('web', '10.0.1.1')], '', '10.0.1.1\tweb\n', []],
    ['the address now another name\'s: the old line goes', '10.0.1.1\tweb\n', [tomb('10.0.1.1', 'web'), ...name('mail', '10.0.1.1')], '', '', []],
    ['a tombstone for another name at that address: stays', '10.0.1.1\tweb\n', [tomb('10.0.1.1', 'mail')], '', '10.0.1.1\tweb\n', []],
    ['still bound in /etc/ethers here: stays, reported', '10.0.1.1\tweb\n', [tomb('10.0.1.1', 'web')], `${MAC} 10.0.1.1\n`, '10.0.1.1\tweb\n',
      ['web was released from 10.0.1.1 in the pool, but /etc/ethers here still binds that address: shut the guest down, then vif-nat-dns-admin pool sync']],
    ['a hand-made line with other names: stays, reported', '10.0.1.1 web www\n', [tomb('10.0.1.1', 'web')], '', '10.0.1.1 web www\n',
      ['web was released from 10.0.1.1 in the pool, but line 1 of /etc/hosts gives that address other names too: edit it by hand']],
  ] as const)('%s', (_, hosts, rows, ethers, after, kept) => {
    const dropped = dropForgotten(parseHosts(hosts), snap([...rows]), parseEthers(ethers));
    expect(renderHosts(dropped.hosts)).toBe(after);
    expect(dropped.kept).toEqual(kept);
  });
});
