// A pool of three dom0s sharing one registry in a real three-member etcd cluster: allocation races, reachability, migration, faults.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DOMAIN, LAN_PORT, type Guest, type Sandbox } from '../harness/sandbox';
import { daemon } from '../harness/processes';
import { DOM0_ADDRESSES, eventually, TestPool } from '../harness/pool';
import { backendPath, testMac } from '../harness/xen-domain';

// budget: about 60 s on 2 cores (three etcd members, three sandboxes with dnsmasq, a 3 s lease that must expire once,
// the watchers' 2 s full pass)
let pool: TestPool;
let A: Sandbox, B: Sandbox, C: Sandbox;
const [ADDR_A, ADDR_B, ADDR_C] = DOM0_ADDRESSES as [string, string, string];

beforeAll(async () => {
  pool = await TestPool.create({ leaseTtlS: 3, resyncS: 2 });
  [A, B, C] = pool.dom0s as [Sandbox, Sandbox, Sandbox];
  await pool.startWatchers();
}, 120_000);
afterAll(async () => { await pool?.destroy(); });
beforeEach(({ onTestFailed }) => onTestFailed(() => console.log(pool.diagnostics())));

const ONLINE = /online vif\d+\.\d+: (\S+) (10\.\d+\.\d+\.\d+) /;

async function online(box: Sandbox, guest: Guest): Promise<{ name: string; ip: string; stderr: string }> {
  const result = await box.runHook(guest.vifs[0]!, 'online');
  expect(result.code, result.stderr).toBe(0);
  const [, name, ip] = ONLINE.exec(result.stderr)!;
  return { name: name!, ip: ip!, stderr: result.stderr };
}

async function poolList(box: Sandbox): Promise<Array<{ hostname: string; address: string; host?: string; mac?: string }>> {
  const result = await box.runScript('vif-nat-dns-admin', ['pool', 'list', '--json']);
  return result.code === 0 ? JSON.parse(result.stdout) : [];
}

const poolRoutes = async (box: Sandbox) => (await box.inDom0(['ip', '-4', 'route', 'show', 'proto', '98'])).stdout;
const names = (hosts: string) => hosts.split('\n').filter((line) => line.startsWith('10.')).map((line) => line.split('\t')[1]!);

describe('a pool of three dom0s', () => {
  const started = new Map<string, string>(); // hostname -> address

  it('guests started on all three hosts at once get distinct addresses, and every dom0 learns every name', async () => {
    const boxes = [['a', A], ['b', B], ['c', C]] as const;
    const guests = await Promise.all(boxes.flatMap(([tag, box], h) => [1, 2, 3, 4].map((n) =>
      box.addGuest(n, `${tag}${n}`, [testMac(h + 1, n)], { headless: n !== 1 }).then((guest) => [box, guest] as const))));
    const results = await Promise.all(guests.map(([box, guest]) => online(box, guest)));
    for (const { name, ip } of results) started.set(name, ip);
    expect(new Set(results.map((r) => r.ip)).size).toBe(12);

    for (const box of [A, B, C]) {
      const hosts = await eventually(() => box.dom0File('/etc/hosts'), (text) => names(text).length === 12);
      expect(names(hosts).sort()).toEqual([...started.keys()].sort()); // each name once
      for (const [name, ip] of started) expect(hosts).toContain(`${ip}\t${name}\n`);
    }
    // /etc/ethers: only the host's own guests
    expect((await B.dom0File('/etc/ethers')).trim().split('\n')).toHaveLength(4);
    expect(await B.dom0File('/etc/ethers')).toContain(`${testMac(2, 1)} ${started.get('b1')}`);
    const list = await poolList(A);
    expect(list.filter((row) => row.host === ADDR_C).map((row) => row.hostname).sort()).toEqual(['c1', 'c2', 'c3', 'c4']);
  });

  it('a guest on one host reaches a guest on another by name and by address, without NAT', async () => {
    const a1 = A.guest(1);
    const b1 = B.guest(1);
    const [leaseA, leaseB] = await Promise.all([A.dhcp(a1), B.dhcp(b1)]);
    expect(leaseA?.ip).toBe(started.get('a1'));
    expect(leaseB?.ip).toBe(started.get('b1'));
    // b1's address from A's dnsmasq, which never saw b1 start
    expect(await A.dig(a1, leaseA!.router, `b1.${DOMAIN}`)).toBe(started.get('b1'));
    await eventually(() => poolRoutes(A), (routes) => routes.includes(`${started.get('b1')} via ${ADDR_B} dev pool0`));

    const server = daemon('nsenter', ['-t', String(b1.ns.pid), '-n', '--', process.execPath, '-e',
      `require("net").createServer((s)=>s.end(s.remoteAddress+"\\n")).listen(${LAN_PORT},"0.0.0.0",()=>console.log("listening"))`]);
    try {
      await server.waitFor(/listening/);
      const seen = await A.inNet(a1.ns, ['timeout', '5', 'bash', '-c', `exec 3<>/dev/tcp/${started.get('b1')}/${LAN_PORT} && cat <&3`]);
      expect(seen.stdout.trim()).toBe(started.get('a1')); // b1 sees a1's own address
    } finally {
      await server.stop();
    }
  });

  it('an offline whose registry call ran out of time leaves the binding to the watcher, which drops it at its next full pass', async () => {
    const a1 = A.guest(1);
    // this hook alone finds no member (an address nobody holds on the hosts' network); the watchers still reach the cluster
    const down = await A.runHook(a1.vifs[0]!, 'offline', { VIF_NAT_DNS_ETCD_ENDPOINTS: 'http://192.168.77.99:2379' });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toMatch(/updating the pool registry \(left to the pool watcher's next pass\): the pool registry \(etcd at http:\/\/192\.168\.77\.99:2379\) did not answer/);
    expect(await A.dom0File('/etc/ethers')).not.toContain(testMac(1, 1));
    // nothing changes in the registry, so only the watcher's full pass (every 2 s here) can see the binding is stale
    const list = await eventually(() => poolList(B), (rows) => rows.find((r) => r.hostname === 'a1')?.host === undefined, 10_000);
    expect(list.find((r) => r.hostname === 'a1')?.host).toBeUndefined();
    expect(pool.watchers.get(A)!.output()).toContain("dropped a1's binding: it no longer runs here");

    const again = await online(A, a1);
    expect(again.ip).toBe(started.get('a1'));
    expect((await poolList(B)).find((r) => r.hostname === 'a1')).toMatchObject({ host: ADDR_A, mac: testMac(1, 1) });
  });

  it('migration as libxl runs it keeps the address, moves the binding and the routes; the sender\'s offline takes nothing back', async () => {
    const mac = testMac(9, 1);
    const sender = await A.addGuest(20, 'mig', [mac], { headless: true });
    const { ip } = await online(A, sender);
    await eventually(() => poolRoutes(C), (routes) => routes.includes(`${ip} via ${ADDR_A} `));

    // receiving side: the domain is created as mig--incoming and its vif comes up while the sender still runs
    const receiver = await B.addGuest(40, 'mig--incoming', [mac], { headless: true });
    const arrived = await online(B, receiver);
    expect(arrived).toMatchObject({ name: 'mig', ip });
    expect(arrived.stderr).toContain(`mig's binding moved here from ${ADDR_A}`);

    // sender renamed, then destroyed: its offline runs under mig--migratedaway; the receiver is renamed to mig
    A.xs.write('/local/domain/20/name', 'mig--migratedaway');
    const gone = await A.runHook(sender.vifs[0]!, 'offline');
    expect(gone.code).toBe(0);
    expect(gone.stderr).toContain(`mig's binding stays with ${ADDR_B}`);
    await A.destroyGuest(sender);
    B.xs.write('/local/domain/40/name', 'mig');

    expect((await poolList(C)).find((row) => row.hostname === 'mig')).toMatchObject({ address: ip, host: ADDR_B, mac });
    await eventually(() => poolRoutes(C), (routes) => routes.includes(`${ip} via ${ADDR_B} `));
    await eventually(() => poolRoutes(A), (routes) => routes.includes(`${ip} via ${ADDR_B} `));
    expect(await poolRoutes(B)).not.toContain(`${ip} `); // B carries it on its own vif
    expect((await B.inDom0(['ip', '-4', 'route', 'show', `${ip}/32`])).stdout).toContain('dev vif40.0');
    expect(await A.dom0File('/etc/ethers')).not.toContain(mac);
  });

  it('one etcd member killed: guests still start, with no degraded mode', async () => {
    await pool.etcd.kill(0);
    try {
      const guest = await C.addGuest(10, 'after-kill', [testMac(3, 10)], { headless: true });
      const result = await online(C, guest);
      expect(result.stderr).not.toMatch(/degraded|warn/);
      expect(new Set([...started.values(), result.ip]).size).toBe(started.size + 1);
      started.set(result.name, result.ip);
      const status = await C.runScript('vif-nat-dns-admin', ['pool', 'status']);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/192\.168\.77\.21:2379\s+-\s+unreachable/);
      // doctor: the member is a warning, the registry still answers
      const doctor = await C.runScript('vif-nat-dns-admin', ['doctor']);
      expect(doctor.stdout).toMatch(/\[WARN\] etcd member http:\/\/192\.168\.77\.21:2379 does not answer/);
      expect(doctor.stdout).toMatch(/\[ ok \] the registry answers \(quorum\): 2 of 3 members reachable from here/);
      expect(doctor.stdout).not.toMatch(/\[FAIL\] (the pool|this dom0|no route|the registry says)/);
    } finally {
      await pool.etcd.start(0);
    }
  });

  it('quorum lost: a known name starts (degraded, registered once etcd is back), a new name is refused clearly, offline never blocks', async () => {
    // a3 stops while the pool is healthy, so its binding is gone
    const a3 = A.guest(3);
    const down3 = await A.runHook(a3.vifs[0]!, 'offline');
    expect(down3.code).toBe(0);
    expect((await poolList(A)).find((row) => row.hostname === 'a3')?.host, down3.stderr).toBeUndefined();

    await pool.etcd.kill(1);
    await pool.etcd.kill(2);
    try {
      const again = await online(A, a3);
      expect(again).toMatchObject({ name: 'a3', ip: started.get('a3') });
      expect(again.stderr).toMatch(/degraded: a3 started from this dom0's files/);

      const stranger = await A.addGuest(30, 'stranger', [testMac(1, 30)], { headless: true });
      const refused = await A.runHook(stranger.vifs[0]!, 'online');
      expect(refused.code).toBe(1);
      expect(A.xs.read(`${backendPath(stranger.vifs[0]!)}/hotplug-error`)).toMatch(/stranger is new to this dom0 and the pool registry cannot be reached, so it gets no address/);
      expect(await A.dom0File('/etc/hosts')).not.toContain('stranger');

      const doctor = await A.runScript('vif-nat-dns-admin', ['doctor']);
      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toMatch(/\[FAIL\] the pool registry does not answer \(\d of 3 members reachable with a leader\)/);

      const a4 = A.guest(4);
      const down = await A.runHook(a4.vifs[0]!, 'offline');
      expect(down.code).toBe(0);
      expect(down.ms).toBeLessThan(5000); // the registry's offline timeout is 1 s per call
      expect(await A.dom0File('/etc/ethers')).not.toContain(testMac(1, 4));
    } finally {
      await Promise.all([pool.etcd.start(1), pool.etcd.start(2)]);
    }
    // the watcher registers a3's binding and drops a4's once the cluster answers again
    const list = await eventually(() => poolList(B), (rows) => rows.find((r) => r.hostname === 'a3')?.host === ADDR_A && !rows.find((r) => r.hostname === 'a4')?.host, 15_000);
    expect(list.find((r) => r.hostname === 'a3')).toMatchObject({ host: ADDR_A, mac: testMac(1, 3) });
    expect(list.find((r) => r.hostname === 'a4')?.host).toBeUndefined();
    // and a new name starts again
    const stranger = A.guest(30);
    const result = await online(A, stranger);
    expect(new Set([...started.values(), result.ip]).size).toBe(started.size + 1);
    started.set(result.name, result.ip);
  });

  it('a dom0 cut off from the pool: its guests\' bindings expire; back, it reconciles without losing or duplicating anything', async () => {
    const cGuests = (await poolList(A)).filter((row) => row.host === ADDR_C).map((row) => row.hostname).sort();
    expect(cGuests).toEqual(['after-kill', 'c1', 'c2', 'c3', 'c4']);
    await pool.net.cut(ADDR_C);
    try {
      // the 3 s lease runs out: the others drop C's bindings and their routes to C's guests
      await eventually(() => poolList(A), (rows) => rows.every((row) => row.host !== ADDR_C), 10_000);
      await eventually(() => poolRoutes(A), (routes) => !routes.includes(ADDR_C), 5000);
      expect(await poolRoutes(A)).not.toContain(ADDR_C);
      // cut off, C still starts a guest it knows (degraded)
      const c2 = C.guest(2);
      expect((await C.runHook(c2.vifs[0]!, 'offline')).code).toBe(0);
      expect((await online(C, c2)).stderr).toMatch(/degraded/);
    } finally {
      await pool.net.heal(ADDR_C);
    }
    const list = await eventually(() => poolList(A), (rows) => rows.filter((row) => row.host === ADDR_C).length === 5, 15_000);
    expect(list.filter((row) => row.host === ADDR_C).map((row) => row.hostname).sort()).toEqual(cGuests);
    expect(new Set(list.map((row) => row.address)).size).toBe(list.length);
    await eventually(() => poolRoutes(A), (routes) => routes.includes(`${started.get('c2')} via ${ADDR_C} `));
    for (const box of [A, B, C]) {
      const hosts = await box.dom0File('/etc/hosts');
      expect(names(hosts).length).toBe(new Set(names(hosts)).size); // no name twice
      expect(new Set(names(hosts))).toEqual(new Set(list.map((row) => row.hostname)));
    }
  }, 60_000); // its waits alone may take 30 s on a loaded machine

  it('the watchers ran through all of it without a warning from Node (each pass takes its listeners away)', () => {
    for (const watcher of pool.watchers.values()) expect(watcher.output()).not.toMatch(/MaxListenersExceededWarning|\(node:\d+\) \w*Warning/);
  });
});
