// Pool mode beyond the hook's happy path: a failed online's rollback, and the admin commands that must consult the registry.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, type Sandbox } from '../harness/sandbox';
import { DOM0_ADDRESSES, eventually, TestPool } from '../harness/pool';
import { testMac } from '../harness/xen-domain';

// budget: about 15 s on 2 cores (one etcd member, two dom0s with dnsmasq)
let pool: TestPool;
let A: Sandbox, B: Sandbox;
const [ADDR_A, ADDR_B] = DOM0_ADDRESSES as [string, string];
/** An endpoint where no member listens (nothing answers on the hosts' network there): the registry is unreachable. */
const NO_REGISTRY = { VIF_NAT_DNS_ETCD_ENDPOINTS: 'http://192.168.77.29:2379', VIF_NAT_DNS_ETCD_TIMEOUT_MS: '300' };
const admin = (box: Sandbox, args: string[], env: Record<string, string> = {}) => box.runScript('vif-nat-dns-admin', args, env);
const hostsNames = async (box: Sandbox) => (await box.dom0File('/etc/hosts')).split('\n').filter((l) => l.startsWith('10.'));

beforeAll(async () => {
  pool = await TestPool.create({ dom0s: 2, members: 1, leaseTtlS: 30 });
  [A, B] = pool.dom0s as [Sandbox, Sandbox];
  await pool.startWatchers();
}, 60_000);
afterAll(async () => { await pool?.destroy(); });

type Row = { hostname: string; address: string; host?: string; mac?: string };
async function online(box: Sandbox, domid: number, name: string, mac: string): Promise<string> {
  const guest = await box.addGuest(domid, name, [mac], { headless: true });
  const result = await box.runHook(guest.vifs[0]!, 'online');
  expect(result.code, result.stderr).toBe(0);
  return / (10\.\d+\.\d+\.\d+) /.exec(result.stderr)![1]!;
}

/** Stop `box`'s watcher (SIGKILL: its pid file stays behind), so nothing mends what a test breaks; `restart` starts it again. */
async function stopWatcher(box: Sandbox): Promise<{ restart(): Promise<void> }> {
  await pool.watchers.get(box)!.stop();
  return {
    async restart() {
      const watcher = box.startScript('vif-nat-dns-admin', ['pool', 'watch']);
      pool.watchers.set(box, watcher);
      await watcher.waitFor(/watching /);
    },
  };
}

async function poolList(box: Sandbox): Promise<Row[]> {
  const result = await box.runScript('vif-nat-dns-admin', ['pool', 'list', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Row[];
}

describe('pool mode: rollback and admin commands', () => {
  it('a failed online removes the live binding it registered (the name keeps its number)', { timeout: 30_000 }, async () => {
    const guest = await A.addGuest(10, 'broken', [testMac(1, 10)], { headless: true });
    // ip's route commands fail: after the registry reserved and bound the name, so the rollback must unbind it
    const failed = await A.runHook(guest.vifs[0]!, 'online', { PATH: `${join(REPO, 'test', 'harness', 'faults')}:/usr/sbin:/usr/bin:/sbin:/bin` });
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/injected fault/);
    const row = (await poolList(B)).find((r) => r.hostname === 'broken');
    expect(row).toMatchObject({ address: '10.0.1.1' });
    expect(row?.host).toBeUndefined();
    expect(await A.dom0File('/etc/ethers')).not.toContain(testMac(1, 10));
    // and it comes up, at the same address, once ip works
    const again = await A.runHook(guest.vifs[0]!, 'online');
    expect(again.code, again.stderr).toBe(0);
    expect((await poolList(B)).find((r) => r.hostname === 'broken')).toMatchObject({ address: '10.0.1.1', host: ADDR_A, mac: testMac(1, 10) });
  });

  it('reserve allocates through the registry: the same address on every dom0, the next number for the next name', { timeout: 30_000 }, async () => {
    const onA = await admin(A, ['reserve', 'planned', '--interfaces', '2', '--json']);
    expect(onA.code, onA.stderr).toBe(0);
    const rowsA = JSON.parse(onA.stdout) as Array<{ hostname: string; address: string }>;
    const onB = await admin(B, ['reserve', 'planned', '--interfaces', '2', '--json']);
    expect(onB.code, onB.stderr).toBe(0);
    expect(JSON.parse(onB.stdout)).toEqual(rowsA); // looked up on B, not allocated again
    expect(rowsA.map((r) => r.hostname)).toEqual(['planned', 'planned-2']);
    const list = await poolList(B);
    for (const row of rowsA) expect(list.find((r) => r.hostname === row.hostname)?.address).toBe(row.address);
    expect(await hostsNames(B)).toEqual(expect.arrayContaining([`${rowsA[0]!.address}\tplanned`, `${rowsA[1]!.address}\tplanned-2`]));
    // a name reserved on B takes the next number, which A's files never used
    const other = JSON.parse((await admin(B, ['reserve', 'other', '--json'])).stdout) as Array<{ address: string }>;
    expect(new Set(list.map((r) => r.address))).not.toContain(other[0]!.address);
    // the guest's online on B (which has not seen it run) finds the reserved address
    expect(await online(B, 20, 'planned', testMac(2, 20))).toBe(rowsA[0]!.address);
  });

  it('reserve with the registry unreachable: a name these files know is printed, a new one refused', { timeout: 30_000 }, async () => {
    const known = await admin(A, ['reserve', 'planned'], NO_REGISTRY);
    expect(known.code, known.stderr).toBe(0);
    // the client's deadline (300 ms here) covers the connect: ARP gives up on the absent member only after ~3 s
    expect(known.ms).toBeLessThan(2500);
    expect(known.stdout).toMatch(/planned\s+10\.0\.\d+\.1\//);
    const fresh = await admin(A, ['reserve', 'unreachable-new'], NO_REGISTRY);
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toMatch(/unreachable-new is new to this dom0 and the pool registry cannot be reached, so it gets no address/);
    expect(await A.dom0File('/etc/hosts')).not.toContain('unreachable-new');
  });

  it('forget: a pool name is released only pool-wide (--pool), never while it runs anywhere; every dom0 drops it', { timeout: 30_000 }, async () => {
    const ip = await online(A, 30, 'doomed', testMac(1, 30));
    const plain = await admin(B, ['forget', 'doomed']);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/doomed is registered in the pool: forgetting on this dom0 alone would be undone by the watcher/);
    const running = await admin(B, ['forget', 'doomed', '--pool', '--force']);
    expect(running.code).toBe(1);
    expect(running.stderr).toMatch(new RegExp(`doomed \\(${ip.replace(/\./g, '\\.')}\\) runs on pool host ${ADDR_A.replace(/\./g, '\\.')}`));
    expect((await A.runHook(A.guest(30).vifs[0]!, 'offline')).code).toBe(0);
    await A.destroyGuest(A.guest(30));

    const dry = await admin(B, ['forget', 'doomed', '--pool', '--dry-run']);
    expect(dry.stdout).toContain(`- pool:   ${ip}\tdoomed`);
    expect((await poolList(A)).map((r) => r.hostname)).toContain('doomed');
    const done = await admin(B, ['forget', 'doomed', '--pool']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain(`- pool:   ${ip}\tdoomed`);
    expect(done.stdout).toContain(`- hosts:  ${ip}\tdoomed`);
    expect((await poolList(A)).map((r) => r.hostname)).not.toContain('doomed');
    expect(await hostsNames(B)).not.toContain(`${ip}\tdoomed`);
    // A's watcher removes A's line (the tombstone), and the number is free again
    await eventually(() => hostsNames(A), (lines) => !lines.includes(`${ip}\tdoomed`));
    expect(await hostsNames(A)).not.toContain(`${ip}\tdoomed`);
    expect(await online(A, 31, 'reborn', testMac(1, 31))).toBe(ip);
    await eventually(() => hostsNames(B), (lines) => lines.includes(`${ip}\treborn`));
    expect(await hostsNames(B)).toContain(`${ip}\treborn`);
  });

  it('gc: pool names are collected only with --pool, and only those that run on no dom0', { timeout: 30_000 }, async () => {
    const ip1 = await online(A, 40, 'ci-1', testMac(1, 40));
    const ip2 = await online(B, 41, 'ci-2', testMac(2, 41));
    expect((await A.runHook(A.guest(40).vifs[0]!, 'offline')).code).toBe(0);
    await A.destroyGuest(A.guest(40));
    const plain = await admin(B, ['gc', '--match', 'ci-*']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/left ci-1: registered in the pool; gc --pool releases them/);
    expect((await poolList(B)).map((r) => r.hostname)).toContain('ci-1');
    const pooled = await admin(B, ['gc', '--match', 'ci-*', '--pool']);
    expect(pooled.code, pooled.stderr).toBe(0);
    expect(pooled.stdout).toContain(`- pool:   ${ip1}\tci-1`);
    expect(pooled.stdout).not.toContain('ci-2'); // it runs on B
    const names = (await poolList(A)).map((r) => r.hostname);
    expect(names).not.toContain('ci-1');
    expect(names).toContain('ci-2');
    await eventually(() => hostsNames(A), (lines) => !lines.includes(`${ip1}\tci-1`));
    expect(await hostsNames(A)).not.toContain(`${ip1}\tci-1`);
    expect(await hostsNames(A)).toContain(`${ip2}\tci-2`);
  });

  it('regen-ethers rebuilds /etc/ethers from what runs, registers what runs unregistered, drops bindings of what does not run', { timeout: 30_000 }, async () => {
    const ip1 = await online(A, 50, 'keep', testMac(1, 50));
    const ip2 = await online(A, 51, 'crashed', testMac(1, 51));
    // a vif whose name runs on B per the registry (two domains of one name)
    await online(B, 53, 'twice', testMac(2, 53));
    await A.addGuest(54, 'twice', [testMac(1, 54)], { headless: true });
    // a dom0 crash (no watcher yet): crashed's domain gone without an offline, /etc/ethers lost, a vif up whose online never ran
    const watcher = await stopWatcher(A);
    try {
      A.xs.rm('/local/domain/0/backend/vif/51');
      await A.writeDom0File('/etc/ethers', '# kept\n');
      await A.addGuest(52, 'never-online', [testMac(1, 52)], { headless: true });

      const dry = await A.runScript('regen-ethers', ['--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stderr).toMatch(/would register never-online 10\.0\.\d+\.1 in the pool/);
      expect(await A.dom0File('/etc/ethers')).toBe('# kept\n');
      expect((await poolList(B)).map((r) => r.hostname)).not.toContain('never-online');

      const real = await A.runScript('regen-ethers', []);
      expect(real.code, real.stderr).toBe(0);
      expect(real.stderr).toMatch(/skipped domain 54 \(twice\) vif 0: twice runs on pool host 192\.168\.77\.12 per the registry/);
      expect(real.stdout).toContain("dropped crashed's binding: it no longer runs here");
      const list = await poolList(B);
      const fresh = list.find((r) => r.hostname === 'never-online');
      expect(fresh).toMatchObject({ host: ADDR_A, mac: testMac(1, 52) });
      expect(list.find((r) => r.hostname === 'keep')).toMatchObject({ address: ip1, host: ADDR_A, mac: testMac(1, 50) });
      expect(list.find((r) => r.hostname === 'crashed')).toMatchObject({ address: ip2 });
      expect(list.find((r) => r.hostname === 'crashed')?.host).toBeUndefined();
      expect(list.find((r) => r.hostname === 'twice')?.host).toBe(ADDR_B);
      const ethers = await A.dom0File('/etc/ethers');
      expect(ethers.startsWith('# kept\n')).toBe(true);
      expect(ethers).toContain(`\n${testMac(1, 50)} ${ip1}\n`);
      expect(ethers).toContain(`\n${testMac(1, 52)} ${fresh!.address}\n`);
      expect(ethers).not.toContain(testMac(1, 51)); // crashed: not running
      expect(ethers).not.toContain(testMac(1, 54)); // twice: B runs it
      expect(await hostsNames(B)).toContain(`${fresh!.address}\tnever-online`);
      expect((await A.runScript('regen-ethers', [])).stdout).toMatch(/^\(no change\)\n/);
    } finally {
      await watcher.restart();
    }
  });

  it('mac-for finds a name the pool registered that this dom0 has not materialised, and --allocate registers', { timeout: 30_000 }, async () => {
    const mac = await admin(A, ['mac-for', 'via-pool', '--allocate']);
    expect(mac.code, mac.stderr).toBe(0);
    const row = (await poolList(B)).find((r) => r.hostname === 'via-pool');
    expect(mac.stdout.trim()).toBe(`00:16:3e:${row!.address.split('.').slice(1).map((n) => Number(n).toString(16).padStart(2, '0')).join(':')}`);
    await B.inDom0(['sed', '-i', '/\\tvia-pool$/d', '/etc/hosts']);
    expect((await admin(B, ['mac-for', 'via-pool'])).stdout).toBe(mac.stdout);
  });

  it('a released name started again on a dom0 whose watcher has not caught up: the hook drops the old line itself', { timeout: 30_000 }, async () => {
    const ip = await online(B, 70, 'again', testMac(2, 70));
    await eventually(() => hostsNames(A), (lines) => lines.includes(`${ip}\tagain`));
    expect((await B.runHook(B.guest(70).vifs[0]!, 'offline')).code).toBe(0);
    await B.destroyGuest(B.guest(70));
    const watcher = await stopWatcher(A);
    try {
      expect((await admin(B, ['forget', 'again', '--pool'])).code).toBe(0);
      expect(await hostsNames(A)).toContain(`${ip}\tagain`); // no watcher removed it
      const back = await online(A, 71, 'again', testMac(1, 71));
      expect((await hostsNames(A)).filter((line) => line.endsWith('\tagain'))).toEqual([`${back}\tagain`]);
      expect((await poolList(B)).find((r) => r.hostname === 'again')).toMatchObject({ address: back, host: ADDR_A });
    } finally {
      await watcher.restart();
    }
  });

  it('doctor checks the cluster, the lease, the watcher, and that the files and routes agree with the registry', { timeout: 30_000 }, async () => {
    const doctor = (box: Sandbox, env: Record<string, string> = {}) => admin(box, ['doctor'], env);
    const ipB = (await poolList(A)).find((r) => r.host === ADDR_B)!.address; // a guest of B's, routed from A
    // (the watcher the previous test restarted mends what changed while it was away in its first pass)
    const good = await eventually(() => doctor(A), (r) => !r.stdout.includes('[FAIL]'));
    expect(good.stdout).not.toContain('[FAIL]');
    expect(good.stdout).toMatch(/\[ ok \] the registry answers \(quorum\): 1 of 1 members reachable from here, leader http:\/\/192\.168\.77\.21:2379/);
    expect(good.stdout).toMatch(/\[ ok \] the pool watcher is running \(pid \d+\)/);
    expect(good.stdout).toContain(`[ ok ] this dom0 (${ADDR_A}) holds a live lease`);
    expect(good.stdout).toMatch(/\[ ok \] this dom0 agrees with the registry: \d+ pool names in \/etc\/hosts/);

    // the watcher killed (its pid file left behind), then drift it would have mended: a route and a name gone, a binding without its line
    const watcher = await stopWatcher(A);
    try {
      const guest = await A.addGuest(60, 'drift', [testMac(1, 60)], { headless: true });
      expect((await A.runHook(guest.vifs[0]!, 'online')).code).toBe(0);
      await A.inDom0(['ip', 'route', 'del', `${ipB}/32`, 'proto', '98']);
      await A.inDom0(['sed', '-i', '/\tplanned$/d', '/etc/hosts']);
      await A.inDom0(['sed', '-i', `/^${testMac(1, 60)} /d`, '/etc/ethers']);
      const drift = await doctor(A);
        expect(drift.code).toBe(1);
      const noWatcher = /\[FAIL\] the pool watcher is not running \(\/run\/vif-nat-dns\/pool-watch\.pid names pid \d+, which is not a watcher\)[^\n]*\n\s+fix: systemctl enable --now vif-nat-dns-pool/;
      expect(drift.stdout).toMatch(noWatcher);
      expect(drift.stdout).toMatch(new RegExp(`\\[FAIL\\] no route to 1 guest\\(s\\) of other hosts: ${ipB.replace(/\./g, '\\.')} via ${ADDR_B.replace(/\./g, '\\.')}\\n\\s+fix: vif-nat-dns-admin pool sync`));
      expect(drift.stdout).toMatch(/\[FAIL\] 1 pool name\(s\) missing from \/etc\/hosts, so this dnsmasq does not answer for them: 10\.0\.\d+\.1 planned/);
      expect(drift.stdout).toMatch(/\[FAIL\] the registry says drift \(10\.0\.\d+\.1\) runs here, but \/etc\/ethers has no line for it/);
      expect((await admin(A, ['pool', 'sync'])).code).toBe(0);
      const mended = await doctor(A);
      expect(mended.stdout.match(/\[FAIL\][^\n]*/g)).toEqual([expect.stringMatching(/the pool watcher is not running/)]);

      // the registry out of reach
      const unreachable = await doctor(A, NO_REGISTRY);
      expect(unreachable.code).toBe(1);
      expect(unreachable.stdout).toMatch(/\[WARN\] etcd member http:\/\/192\.168\.77\.29:2379 does not answer/);
      expect(unreachable.stdout).toMatch(/\[FAIL\] the pool registry does not answer \(0 of 1 members reachable with a leader\)/);
    } finally {
      await watcher.restart();
    }
    expect((await doctor(A)).stdout).toMatch(/\[ ok \] the pool watcher is running/);
    expect((await doctor(A)).stdout).not.toContain('[FAIL]');
  });
});
