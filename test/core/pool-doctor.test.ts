import { describe, expect, it } from 'vitest';
import { checkPool, type PoolDoctorInput } from '../../src/core/pool-doctor';
import { parseScheme } from '../../src/core/scheme';
import { bound, name, snap } from './registry-fixtures';

const scheme = parseScheme('10.0.0.0/8');
const ME = '192.168.77.11';
const B = '192.168.77.12';
const MAC = '00:16:3e:00:00:01';
const MAC_B = '00:16:3e:00:00:02';
const host = (address: string): [string, string, number, string] => [`hosts/${address}`, '{}', 3, '111'];
const members = [
  { endpoint: 'http://192.168.77.21:2379', version: '3.4.23', leader: true, hasLeader: true },
  { endpoint: 'http://192.168.77.22:2379', version: '3.4.23', leader: false, hasLeader: true },
  { endpoint: 'http://192.168.77.23:2379', version: '3.4.23', leader: false, hasLeader: true },
];
// web runs here, db on B; this dom0's files and routes agree
const registry = snap([...name('web', '10.0.1.1'), ...name('db', '10.0.2.1'), bound('web', '10.0.1.1', MAC, ME), bound('db', '10.0.2.1', MAC_B, B), host(ME), host(B)]);
const healthy: PoolDoctorInput = {
  scheme, me: ME, members, snapshot: registry, hosts: '127.0.0.1 localhost\n10.0.1.1\tweb\n10.0.2.1\tdb\n', ethers: `${MAC} 10.0.1.1\n`,
  routes: new Map([['10.0.2.1', B]]), watcher: { running: true, detail: 'the pool watcher is running (pid 42)' },
};
const problems = (input: PoolDoctorInput) => checkPool(input).filter((f) => f.level !== 'ok').map((f) => `${f.level}: ${f.message}`);

describe('doctor in a pool', () => {
  it('finds nothing wrong when the cluster answers and the files and routes agree', () => {
    expect(problems(healthy)).toEqual([]);
    expect(checkPool(healthy).map((f) => f.message)).toEqual([
      'the registry answers (quorum): 3 of 3 members reachable from here, leader http://192.168.77.21:2379; 2 names, 2 live bindings, revision 42',
      'the pool watcher is running (pid 42)',
      'this dom0 (192.168.77.11) holds a live lease',
      'this dom0 agrees with the registry: 2 pool names in /etc/hosts, 1 live binding(s) in /etc/ethers, 1 route(s) to other hosts\' guests',
    ]);
  });

  it.each([
    ['one member down: a warning, the registry still answers', { members: [members[0]!, { endpoint: 'http://192.168.77.22:2379', error: 'connect ECONNREFUSED' }, members[2]!] },
      ['warn: etcd member http://192.168.77.22:2379 does not answer: connect ECONNREFUSED']],
    ['a member without a leader', { members: [members[0]!, { ...members[1]!, hasLeader: false }, members[2]!] },
      ['warn: etcd member http://192.168.77.22:2379 answers but sees no leader (cut off from the others, or quorum lost)']],
    ['quorum lost: the registry does not answer, no agreement checked', {
      members: members.map((m, i) => (i === 0 ? { ...m, leader: false, hasLeader: false } : { endpoint: m.endpoint, error: 'timeout' })),
      snapshot: undefined, registryError: 'the pool registry did not answer a read' },
    ['warn: etcd member http://192.168.77.21:2379 answers but sees no leader (cut off from the others, or quorum lost)',
      'warn: etcd member http://192.168.77.22:2379 does not answer: timeout', 'warn: etcd member http://192.168.77.23:2379 does not answer: timeout',
      'error: the pool registry does not answer (0 of 3 members reachable with a leader): the pool registry did not answer a read']],
    ['the watcher not running', { watcher: { running: false, detail: 'the pool watcher is not running (no /run/vif-nat-dns/pool-watch.pid)' } },
      ['error: the pool watcher is not running (no /run/vif-nat-dns/pool-watch.pid): this dom0\'s lease is not kept alive and its files and routes do not follow the pool']],
    ['this dom0\'s lease gone (its bindings with it): routes elsewhere stay, ethers has a line with no binding', {
      snapshot: snap([...name('web', '10.0.1.1'), ...name('db', '10.0.2.1'), bound('db', '10.0.2.1', MAC_B, B), host(B)]) },
    ['error: this dom0 (192.168.77.11) holds no live lease: its guests\' bindings expired, other dom0s route to none of them',
      'error: web (10.0.1.1) runs here per /etc/ethers but has no live binding: other dom0s do not route to it']],
    ['a pool name missing from /etc/hosts', { hosts: '10.0.1.1\tweb\n' },
      ['error: 1 pool name(s) missing from /etc/hosts, so this dnsmasq does not answer for them: 10.0.2.1 db']],
    ['a name at another address in /etc/hosts', { hosts: '10.0.1.1\tweb\n10.0.9.1\tdb\n' },
      ['error: db is at 10.0.9.1 in this /etc/hosts but at 10.0.2.1 in the pool']],
    ['a name released in the pool still in /etc/hosts', { hosts: '10.0.1.1\tweb\n10.0.2.1\tdb\n10.0.3.1\told\n', snapshot: snap([
      ...name('web', '10.0.1.1'), ...name('db', '10.0.2.1'), bound('web', '10.0.1.1', MAC, ME), bound('db', '10.0.2.1', MAC_B, B), host(ME), host(B), ['forgotten/10.0.3.1', 'old']]) },
    ['warn: 1 name(s) released in the pool still in /etc/hosts: 10.0.3.1 old']],
    ['/etc/ethers binds another MAC than the registry', { ethers: `${MAC_B} 10.0.1.1\n` },
      ['error: /etc/ethers binds web (10.0.1.1) to 00:16:3e:00:00:02, the registry to 00:16:3e:00:00:01 10.0.1.1']],
    ['a binding of ours with no /etc/ethers line', { ethers: '' },
      ['error: the registry says web (10.0.1.1) runs here, but /etc/ethers has no line for it: other dom0s route its address here']],
    ['a line for a guest another host runs', { ethers: `${MAC} 10.0.1.1\n${MAC_B} 10.0.2.1\n` },
      ['warn: /etc/ethers binds db (10.0.2.1) to 00:16:3e:00:00:02, but it runs on 192.168.77.12 per the registry (a migration under way, or a stale line)']],
    ['a line no pool name has', { ethers: `${MAC} 10.0.1.1\n00:16:3e:00:00:09 10.0.9.1\n` },
      ['warn: /etc/ethers binds 00:16:3e:00:00:09 to 10.0.9.1, which no pool name has']],
    ['a route missing', { routes: new Map() }, ['error: no route to 1 guest(s) of other hosts: 10.0.2.1 via 192.168.77.12']],
    ['a route through the wrong host', { routes: new Map([['10.0.2.1', '192.168.77.13']]) },
      ['error: 1 route(s) to other hosts\' guests through the wrong host: 10.0.2.1 via 192.168.77.13 (should be via 192.168.77.12)']],
    ['a stale route', { routes: new Map([['10.0.2.1', B], ['10.0.7.1', B]]) }, ['error: 1 stale route(s) to guests no other host runs: 10.0.7.1']],
    ['routes that cannot be listed', { routes: undefined }, ['warn: cannot list the routes to other hosts\' guests (ip route show proto 98)']],
  ] as Array<[string, Partial<PoolDoctorInput>, string[]]>)('%s', (_, change, expected) => {
    expect(problems({ ...healthy, ...change })).toEqual(expected);
  });

  it('every finding that is not ok says how to fix it', () => {
    const broken = checkPool({ ...healthy, hosts: '', ethers: '', routes: new Map([['10.0.7.1', B]]), watcher: { running: false, detail: 'x' } });
    expect(broken.filter((f) => f.level !== 'ok' && !f.fix)).toEqual([]);
    expect(broken.find((f) => /missing from/.test(f.message))?.fix).toMatch(/vif-nat-dns-admin pool sync/);
  });
});
