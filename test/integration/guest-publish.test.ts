// What the hook publishes for the guest in xenstore (and reserve before the guest exists): values, ownership, order, removal; the guest reads them and can change none of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, type Guest } from '../harness/sandbox';
import { XsType } from '../../src/edges/xenstore-wire';

let box: Sandbox;
let guest: Guest;
let other: Guest;
const admin = (...args: string[]) => box.runScript('vif-nat-dns-admin', args);
const dir = '/local/domain/9/vif-nat-dns';
const NODES = ['ip', 'prefix', 'gateway', 'dns', 'hostname', 'domain', 'mac'];
const READS = new Set<number>([XsType.READ, XsType.DIRECTORY, XsType.GET_PERMS]);

beforeAll(async () => {
  box = await Sandbox.create();
  await box.startDnsmasq();
});
afterAll(async () => { await box?.destroy(); });

describe('reserve, before the guest exists', () => {
  it('allocates each interface as the hook would and prints the MACs to pin; running it again prints the same', async () => {
    const first = await admin('reserve', 'Static_Web', '--interfaces', '2', '--json');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual([
      { interface: 1, devid: 0, hostname: 'static-web', address: '10.0.1.1', prefix: 8, gateway: '10.0.1.129', mac: '00:16:3e:00:01:01' },
      { interface: 2, devid: 1, hostname: 'static-web-2', address: '10.0.1.2', prefix: 8, gateway: '10.0.1.130', mac: '00:16:3e:00:01:02' },
    ]);
    const hosts = await box.dom0File('/etc/hosts');
    expect(hosts).toContain('10.0.1.1\tstatic-web\n10.0.1.2\tstatic-web-2\n');
    expect((await admin('reserve', 'Static_Web', '--interfaces', '2', '--json')).stdout).toBe(first.stdout);
    expect(await box.dom0File('/etc/hosts')).toBe(hosts);
    const table = await admin('reserve', 'Static_Web', '--interfaces', '2');
    expect(table.stdout).toBe([
      'IF  HOSTNAME      ADDRESS     GATEWAY     MAC',
      '1   static-web    10.0.1.1/8  10.0.1.129  00:16:3e:00:01:01',
      '2   static-web-2  10.0.1.2/8  10.0.1.130  00:16:3e:00:01:02',
      "vif = [ 'mac=00:16:3e:00:01:01,script=vif-nat-dns', 'mac=00:16:3e:00:01:02,script=vif-nat-dns' ]",
      '',
    ].join('\n'));
    const dig = await box.inDom0(['dig', '+short', '+time=1', '+tries=3', '@127.0.0.1', 'static-web-2.xen.internal', 'A']);
    expect(dig.stdout.trim()).toBe('10.0.1.2'); // dnsmasq was reloaded: the name resolves before the guest exists
  });

  it('the next new name gets the next machine number; a bad count is a usage error; --help documents it', async () => {
    expect(JSON.parse((await admin('reserve', 'db', '--json')).stdout)[0]).toMatchObject({ address: '10.0.2.1', mac: '00:16:3e:00:02:01' });
    expect(JSON.parse((await admin('reserve', 'db', '--prefix', '02:00:00', '--json')).stdout)[0]).toMatchObject({ address: '10.0.2.1', mac: '02:00:00:00:02:01' });
    for (const bad of ['0', '128', 'two', '1.5']) expect((await admin('reserve', 'db', '--interfaces', bad)).code).toBe(2);
    expect((await admin('reserve')).code).toBe(2);
    const help = await admin('reserve', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^reserve <domain-name> \[--interfaces N\]/);
  });
});

describe('online publishes the guest\'s configuration in xenstore', () => {
  beforeAll(async () => {
    guest = await box.addGuest(9, 'Static_Web', ['00:16:3e:00:01:01', '00:16:3e:00:01:02']);
    other = await box.addGuest(10, 'other', ['00:16:3e:00:0a:01']);
    box.xs.write(`${dir}/0/planted`, 'stale'); // left by anything: a publish replaces the directory whole
    box.xs.clearLog();
    for (const vif of [...guest.vifs, ...other.vifs]) expect((await box.runHook(vif, 'online')).code).toBe(0);
  });

  it('address, prefix, gateway and DNS server (dom0\'s side of the vif), hostname, DNS domain and MAC, per interface', () => {
    expect(box.xs.list(dir)?.sort()).toEqual(['0', '1']);
    expect(box.xs.list(`${dir}/0`)?.sort()).toEqual([...NODES].sort());
    const values = (devid: number) => Object.fromEntries(NODES.map((n) => [n, box.xs.read(`${dir}/${devid}/${n}`)]));
    expect(values(0)).toEqual({ ip: '10.0.1.1', prefix: '8', gateway: '10.0.1.129', dns: '10.0.1.129', hostname: 'static-web', domain: 'xen.internal', mac: '00:16:3e:00:01:01' });
    expect(values(1)).toEqual({ ip: '10.0.1.2', prefix: '8', gateway: '10.0.1.130', dns: '10.0.1.130', hostname: 'static-web-2', domain: 'xen.internal', mac: '00:16:3e:00:01:02' });
  });

  it('every node and both directories are dom0\'s, readable by that guest only', () => {
    for (const path of [dir, `${dir}/0`, ...NODES.map((n) => `${dir}/0/${n}`), ...NODES.map((n) => `${dir}/1/${n}`)]) {
      expect(box.xs.perms(path), path).toEqual(['n0', 'r9']);
    }
  });

  it('is written in one transaction with hotplug-status (never connected without it), and never read back by the hook', () => {
    const log = box.xs.requestLog().filter((r) => r.domid === 0);
    const status = log.filter((r) => r.type === XsType.WRITE && r.path === '/local/domain/0/backend/vif/9/0/hotplug-status');
    const published = log.map((r, i) => [r, i] as const).filter(([r]) => r.type === XsType.WRITE && r.path.startsWith(`${dir}/0/`));
    expect(published).toHaveLength(NODES.length);
    const { txId } = published[0]![0];
    expect(txId).not.toBe(0);
    expect(published.every(([r]) => r.txId === txId)).toBe(true);
    expect(status).toEqual([expect.objectContaining({ txId })]);
    const commit = log.findIndex((r, i) => r.type === XsType.TRANSACTION_END && r.txId === txId && i > published.at(-1)![1]);
    expect(commit).toBeGreaterThan(0);
    const readsOfPublished = log.filter((r) => READS.has(r.type) && r.path.includes('/vif-nat-dns'));
    expect(readsOfPublished).toEqual([]);
  });

  it('the guest reads its own values (relative to its home, as in a real guest) and no other guest\'s', async () => {
    const own = await box.inGuest(guest, ['xenstore-read', 'vif-nat-dns/0/ip', 'vif-nat-dns/0/gateway']);
    expect(own.stdout).toBe('10.0.1.1\n10.0.1.129\n');
    expect((await box.inGuest(guest, ['xenstore-list', 'vif-nat-dns'])).stdout.split('\n').filter(Boolean).sort()).toEqual(['0', '1']);
    const theirs = await box.inGuest(other, ['xenstore-read', `${dir}/0/ip`]);
    expect(theirs.code).not.toBe(0);
    expect(theirs.stdout).toBe('');
  });

  it('the guest can neither overwrite, create, remove nor re-permission any of it', async () => {
    const attempts = [
      ['xenstore-write', 'vif-nat-dns/0/ip', '10.0.2.1'],
      ['xenstore-write', 'vif-nat-dns/0/extra', 'x'],
      ['xenstore-write', 'vif-nat-dns/7/ip', '10.0.2.1'],
      ['xenstore-rm', 'vif-nat-dns/0/gateway'],
      ['xenstore-rm', 'vif-nat-dns/0'],
      ['xenstore-rm', 'vif-nat-dns'],
      ['xenstore-chmod', 'vif-nat-dns/0/ip', 'n9'],
      ['xenstore-chmod', 'vif-nat-dns', 'b9'],
    ];
    for (const attempt of attempts) expect((await box.inGuest(guest, attempt)).code, attempt.join(' ')).not.toBe(0);
    expect(box.xs.list(dir)?.sort()).toEqual(['0', '1']);
    expect(box.xs.list(`${dir}/0`)?.sort()).toEqual([...NODES].sort());
    expect(box.xs.read(`${dir}/0/ip`)).toBe('10.0.1.1');
    expect(box.xs.perms(`${dir}/0/ip`)).toEqual(['n0', 'r9']);
  });

  it('a second online writes them again without reading them (what dom0 finds there does not matter)', async () => {
    box.xs.write(`${dir}/0/ip`, '10.9.9.9');
    expect((await box.runHook(guest.vifs[0]!, 'online')).code).toBe(0);
    expect(box.xs.read(`${dir}/0/ip`)).toBe('10.0.1.1');
  });

  it('offline removes that interface\'s values only; again, and after the domain is gone, it is quiet', async () => {
    const first = await box.runHook(guest.vifs[1]!, 'offline');
    expect(first.code).toBe(0);
    expect(box.xs.list(dir)).toEqual(['0']);
    expect(first.stderr).not.toMatch(/warn|problem/);
    expect((await box.runHook(guest.vifs[1]!, 'offline')).stderr).not.toMatch(/warn|problem/);
    expect((await box.runHook(guest.vifs[0]!, 'offline')).code).toBe(0);
    expect(box.xs.list(dir)).toEqual([]);
    box.xs.rm('/local/domain/9');
    const late = await box.runHook(guest.vifs[0]!, 'offline');
    expect(late.code).toBe(0);
    expect(late.stderr).not.toMatch(/published/);
  });
});
