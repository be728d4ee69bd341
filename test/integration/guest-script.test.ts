// A guest with no DHCP client configures itself with templates/guest/vif-nat-dns-guest (busybox sh and applets only): from its pinned MAC, then from xenstore; it reaches DNS and the lan.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, DOM0_UPLINK_IP, REPO, type Guest } from '../harness/sandbox';
import type { RunResult } from '../harness/processes';

const SCRIPT = join(REPO, 'templates', 'guest', 'vif-nat-dns-guest');
let box: Sandbox;
let guest: Guest;
let bin: string;

/** The guest's userland: busybox applets and xenstore-utils, no DHCP client; its own hostname (UTS namespace), resolv.conf and hostname files. */
function setUpGuestRoot(name: string): { env: string[]; file: (f: string) => string } {
  const root = join(box.dir, name);
  mkdirSync(root);
  writeFileSync(join(root, 'guest.conf'), `RESOLV_CONF=${root}/resolv.conf\nHOSTNAME_FILE=${root}/hostname\nWAIT=5\n`);
  return { env: [`PATH=${bin}`, `VIF_NAT_DNS_GUEST_CONFIG=${root}/guest.conf`], file: (f) => readFileSync(join(root, f), 'utf8') };
}

function configure(g: Guest, env: string[], iface: string, xenstore: 'guest' | 'none'): Promise<RunResult> {
  const command = ['/usr/bin/env', ...env, '/usr/bin/unshare', '--uts', '--', '/bin/busybox', 'sh', '-c', `"$0" "$1" && echo "hostname now: $(hostname)"`, SCRIPT, iface];
  return xenstore === 'guest' ? box.inGuest(g, command) : box.inNet(g.ns, ['/usr/bin/env', 'XENSTORED_PATH=/nonexistent/socket', ...command]);
}

const addresses = async (g: Guest, iface = 'eth0') => (await box.inNet(g.ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', iface])).stdout;
const routes = async (g: Guest) => (await box.inNet(g.ns, ['ip', '-4', 'route', 'show'])).stdout;

beforeAll(async () => {
  box = await Sandbox.create();
  await box.startDnsmasq();
  bin = join(box.dir, 'guest-bin');
  mkdirSync(bin);
  for (const applet of ['ip', 'sed', 'tr', 'hostname', 'mv', 'rm', 'sleep', 'cat']) symlinkSync('/bin/busybox', join(bin, applet));
  for (const tool of ['xenstore-read', 'xenstore-list']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
  const reserved = JSON.parse((await box.runScript('vif-nat-dns-admin', ['reserve', 'static', '--interfaces', '2', '--json'])).stdout) as Array<{ mac: string }>;
  guest = await box.addGuest(21, 'static', reserved.map((r) => r.mac));
  expect((await box.runHook(guest.vifs[0]!, 'online')).code).toBe(0);
});
afterAll(async () => { await box?.destroy(); });

describe('a guest without DHCP configures itself', () => {
  it('--dry-run prints what it would do and changes nothing', async () => {
    const root = setUpGuestRoot('dry-run');
    const result = await box.inNet(guest.ns, ['/usr/bin/env', 'XENSTORED_PATH=/nonexistent/socket', ...root.env, '/bin/busybox', 'sh', SCRIPT, '--dry-run', 'eth0']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('+ ip addr add 10.0.1.1/8 dev eth0\n+ ip route replace 10.0.1.129 dev eth0 scope link\n+ ip route replace default via 10.0.1.129 dev eth0\n');
    expect(await addresses(guest)).toBe('');
    expect(() => root.file('resolv.conf')).toThrow(/ENOENT/);
  });

  it('from its pinned MAC when xenstore is out of reach: address, routes, resolv.conf; DNS and the lan answer', async () => {
    const root = setUpGuestRoot('from-mac');
    const result = await configure(guest, root.env, 'eth0', 'none');
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('vif-nat-dns-guest: eth0 10.0.1.1/8 via 10.0.1.129, dns 10.0.1.129 (from MAC 00:16:3e:00:01:01)');
    expect(await addresses(guest)).toContain('inet 10.0.1.1/8');
    expect(await routes(guest)).toMatch(/^default via 10\.0\.1\.129 dev eth0/m);
    expect(root.file('resolv.conf')).toBe('# written by vif-nat-dns-guest from MAC 00:16:3e:00:01:01\nsearch xen.internal\nnameserver 10.0.1.129\n');
    expect(await box.dig(guest, '10.0.1.129', 'static.xen.internal')).toBe('10.0.1.1');
    expect(await box.egress(guest)).toBe(DOM0_UPLINK_IP);
    expect(box.dnsmasqLog()).not.toMatch(/DHCPDISCOVER.*00:16:3e:00:01:01/); // no DHCP at all
  });

  it('from the values dom0 published in xenstore, read as that guest: also its hostname; DNS and the lan answer', async () => {
    await box.inNet(guest.ns, ['ip', '-batch', '-'], { input: 'addr flush dev eth0\nlink set eth0 down\n' });
    const root = setUpGuestRoot('from-xenstore');
    const result = await configure(guest, root.env, 'eth0', 'guest');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('vif-nat-dns-guest: eth0 10.0.1.1/8 via 10.0.1.129, dns 10.0.1.129, hostname static (from xenstore vif-nat-dns/0)\nhostname now: static\n');
    expect(root.file('hostname')).toBe('static\n');
    expect(root.file('resolv.conf')).toBe('# written by vif-nat-dns-guest from xenstore vif-nat-dns/0\nsearch xen.internal\nnameserver 10.0.1.129\n');
    expect(await addresses(guest)).toContain('inet 10.0.1.1/8');
    expect(await box.dig(guest, '10.0.1.129', 'static.xen.internal')).toBe('10.0.1.1');
    expect(await box.egress(guest)).toBe(DOM0_UPLINK_IP);
  });

  it('a hot-plugged second vif: the script waits for its values, which the hook publishes before hotplug-status', async () => {
    const root = setUpGuestRoot('hotplug');
    const pending = configure(guest, root.env, 'eth1', 'guest');
    await new Promise((r) => setTimeout(r, 1200));
    expect((await box.runHook(guest.vifs[1]!, 'online')).code).toBe(0);
    const result = await pending;
    expect(result.stdout).toContain('eth1 10.0.1.2/8 via 10.0.1.130, dns 10.0.1.130, hostname static-2 (from xenstore vif-nat-dns/1)');
    expect(await addresses(guest, 'eth1')).toContain('inet 10.0.1.2/8');
  });

  it('the guest cannot overwrite what it was given', async () => {
    const write = await box.inGuest(guest, ['xenstore-write', 'vif-nat-dns/0/ip', '10.0.9.9']);
    expect(write.code).not.toBe(0);
    expect(box.xs.read('/local/domain/21/vif-nat-dns/0/ip')).toBe('10.0.1.1');
  });

  it('with neither source it changes nothing and says why', async () => {
    const stranger = await box.addGuest(22, 'stranger', ['52:54:00:12:34:56']); // its vif never went online: nothing published
    const root = setUpGuestRoot('neither');
    const result = await configure(stranger, root.env, 'eth0', 'guest');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('vif-nat-dns-guest: eth0: no address: xenstore has no vif-nat-dns/ for this guest (is its vifs\' script vif-nat-dns?); '
      + 'and MAC 52:54:00:12:34:56 does not start with 00:16:3e (MAC_PREFIX). Pin a MAC with `vif-nat-dns-admin reserve <name>` on dom0, use the vif-nat-dns script for this vif, or use DHCP\n');
    expect(await addresses(stranger)).toBe('');
  });
});
