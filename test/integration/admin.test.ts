// The admin CLI on a running sandbox: list, doctor, regen-ethers, regen-/remove-firewall, forget, gc, mac-for, install/uninstall, network-nat-dns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../harness/sandbox';
import { run } from '../harness/processes';

let box: Sandbox;
beforeAll(async () => {
  box = await Sandbox.create();
  await box.startDnsmasq();
  const web = await box.addGuest(40, 'web', ['00:16:3e:00:40:01', '00:16:3e:00:40:02']);
  const ci1 = await box.addGuest(41, 'ci-1', ['00:16:3e:00:41:01']);
  const ci2 = await box.addGuest(42, 'ci-2', ['00:16:3e:00:42:01']);
  for (const vif of [...web.vifs, ...ci1.vifs, ...ci2.vifs]) expect((await box.runHook(vif, 'online')).code).toBe(0);
  expect((await box.runHook(ci2.vifs[0]!, 'offline')).code).toBe(0);
  await box.destroyGuest(ci2);
});
afterAll(async () => { await box?.destroy(); });

const admin = (...args: string[]) => box.runScript('vif-nat-dns-admin', args);

describe('admin CLI', () => {
  it('list --json shows machines, MACs and which are online', async () => {
    const result = await admin('list', '--json');
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as Array<{ hostname: string; address: string; macs: string[]; onlineDevice?: string }>;
    expect(rows.map((r) => [r.hostname, r.address, r.macs.join(','), r.onlineDevice ?? null])).toEqual([
      ['web', '10.0.1.1', '00:16:3e:00:40:01', 'vif40.0'],
      ['web-2', '10.0.1.2', '00:16:3e:00:40:02', 'vif40.1'],
      ['ci-1', '10.0.2.1', '00:16:3e:00:41:01', 'vif41.0'],
      ['ci-2', '10.0.3.1', '', null],
    ]);
    expect((await admin('list')).stdout).toMatch(/^HOSTNAME\s+MACHINE\s+IF\s+ADDRESS/);
  });

  it('doctor finds a healthy setup healthy, then explains a broken one', async () => {
    const good = await admin('doctor');
    expect(good.stdout).not.toContain('[FAIL]');
    expect(good.stdout).toContain("[ ok ] dnsmasq serves the guests' domain xen.internal");
    expect(good.code).toBe(0);
    await box.writeDom0File('/etc/dnsmasq.d/zz-broken.conf', 'no-hosts\n');
    const bad = await admin('doctor');
    await box.inDom0(['rm', '/etc/dnsmasq.d/zz-broken.conf']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/\[FAIL\] dnsmasq ignores \/etc\/hosts: no-hosts[^\n]*\n\s+fix: remove no-hosts/);
  });

  it('regen-ethers rebuilds a lost /etc/ethers; --dry-run only shows the diff', async () => {
    const ethers = await box.dom0File('/etc/ethers');
    await box.writeDom0File('/etc/ethers', '# kept\n00:16:3e:00:99:99 10.0.9.1\n');
    const dry = await box.runScript('regen-ethers', ['--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('- ethers: 00:16:3e:00:99:99 10.0.9.1');
    expect(dry.stdout).toContain('+ ethers: 00:16:3e:00:40:01 10.0.1.1');
    expect(await box.dom0File('/etc/ethers')).toBe('# kept\n00:16:3e:00:99:99 10.0.9.1\n');
    const real = await box.runScript('regen-ethers', []);
    expect(real.code).toBe(0);
    expect(await box.dom0File('/etc/ethers')).toBe(`# kept\n${ethers}`);
    expect(await box.dhcp(box.guest(40))).toMatchObject({ ip: '10.0.1.1' });
    expect((await box.runScript('regen-ethers', [])).stdout.trim()).toBe('(no change)');
  });

  it('forget refuses an online guest and releases an offline one; gc collects by pattern', async () => {
    const refused = await admin('forget', 'web');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/web \(vif40\.0\), web-2 \(vif40\.1\) are online/);
    const forgotten = await admin('forget', 'ci-2');
    expect(forgotten.code).toBe(0);
    expect(await box.dom0File('/etc/hosts')).not.toContain('ci-2');
    expect((await admin('forget', 'nobody')).code).toBe(1);
    expect((await admin('forget')).code).toBe(2);

    expect((await box.runHook(box.guest(41).vifs[0]!, 'offline')).code).toBe(0);
    await box.destroyGuest(box.guest(41));
    const gc = await admin('gc', '--match', 'ci-*');
    expect(gc.stdout).toContain('- hosts:  10.0.2.1\tci-1');
    expect(await box.dom0File('/etc/hosts')).toContain('\tweb\n');
    const again = await box.addGuest(43, 'fresh', ['00:16:3e:00:43:01']);
    expect((await box.runHook(again.vifs[0]!, 'online')).stderr).toContain('fresh 10.0.2.1'); // the freed number is reused
  });

  it('mac-for derives a MAC from the address, allocating for a new name on request', async () => {
    expect((await admin('mac-for', 'web')).stdout.trim()).toBe('00:16:3e:00:01:01');
    expect((await admin('mac-for', 'web', '--interface', '2')).stdout.trim()).toBe('00:16:3e:00:01:02');
    expect((await admin('mac-for', 'planned')).code).toBe(1);
    expect((await admin('mac-for', 'planned', '--allocate')).stdout.trim()).toBe('00:16:3e:00:03:01');
    expect(await box.dom0File('/etc/hosts')).toContain('10.0.3.1\tplanned\n');
    expect((await admin('mac2ip', '00:16:3e:00:03:01')).stdout.trim()).toBe('10.0.3.1');
  });

  it('network-nat-dns start/status/stop is idempotent', async () => {
    const script = (arg: string) => box.runScript('network-nat-dns', [arg]);
    expect((await script('start')).code).toBe(0);
    expect((await script('start')).code).toBe(0);
    const rules = (await box.inDom0(['iptables', '-w', '-t', 'nat', '-S', 'POSTROUTING'])).stdout;
    expect(rules.match(/MASQUERADE/g)).toHaveLength(1);
    expect((await script('status')).stdout).toMatch(/forwarding=1 masquerade\(10\.0\.0\.0\/8 -> eth0\)=present firewall=present/);
    const saved = (await box.inDom0(['iptables-save'])).stdout.split('\n');
    for (const jump of ['-A PREROUTING -j VND-ANTISPOOF', '-A FORWARD -j VND-FORWARD', '-A INPUT -j VND-INPUT']) expect(saved.filter((l) => l === jump)).toHaveLength(1);
    expect(await box.dom0File('/run/vif-nat-dns/network-started')).toBe('masquerade 10.0.0.0/8 eth0\nfirewall group=4646 isolate=no services=- antispoof=rpfilter\nkernel-antispoof\n');
    // undone behind the boot step's back: hooks trust it (no iptables run per guest), doctor says so, start repairs it
    await box.inDom0(['iptables', '-w', '-t', 'nat', '-D', 'POSTROUTING', '-s', '10.0.0.0/8', '-o', 'eth0', '-j', 'MASQUERADE']);
    const guest = await box.addGuest(70, 'after-boot', ['00:16:3e:00:70:01'], { headless: true });
    expect((await box.runHook(guest.vifs[0]!, 'online')).code).toBe(0);
    expect((await box.inDom0(['iptables', '-w', '-t', 'nat', '-S', 'POSTROUTING'])).stdout).not.toMatch(/MASQUERADE/);
    const undone = await admin('doctor');
    expect(undone.code).toBe(1);
    expect(undone.stdout).toMatch(/\[FAIL\] network-nat-dns start put the MASQUERADE rule for 10\.0\.0\.0\/8 -> eth0 in place, but it is gone/);
    expect((await script('start')).code).toBe(0);
    expect((await admin('doctor')).stdout).toMatch(/\[ ok \] a MASQUERADE rule covers 10\.0\.0\.0\/8/);
    await box.runHook(guest.vifs[0]!, 'offline');
    await box.destroyGuest(guest);
    expect((await script('stop')).code).toBe(0);
    expect(await box.dom0File('/run/vif-nat-dns/network-started')).toBe('');
    expect((await script('status')).code).toBe(1);
    expect((await box.inDom0(['iptables-save'])).stdout).not.toContain('VND-');
    expect((await script('bogus')).code).toBe(2);
  });

  // near the end: uninstall also removes what a VND_RUNTIME sandbox installed (the tests after it use the checkout's admin)
  it('install puts a self-contained hook where Xen looks, keeps an edited config, and uninstall reverses it', async () => {
    const installed = await box.checkoutAdmin(['install', '--prefix', '/run/usr-local', '--cache-dir', '/run/vnd-cache']);
    expect(installed.code).toBe(0);
    expect(installed.stdout).toContain('installed /etc/xen/scripts/vif-nat-dns');
    // the pool watcher's unit too, naming this install's admin; like the network unit, neither enabled nor started
    expect(installed.stdout).toMatch(/^(installed|updated) \/etc\/systemd\/system\/vif-nat-dns-pool\.service$/m); // updated: a runtime sandbox installed first
    expect(await box.dom0File('/etc/systemd/system/vif-nat-dns-pool.service')).toContain('\nExecStart=/run/usr-local/sbin/vif-nat-dns-admin pool watch\n');
    expect(installed.stdout).toMatch(/no unit enabled or started/);
    expect((await box.inDom0(['sh', '-c', 'ls /etc/systemd/system/*.wants 2>/dev/null | grep vif-nat-dns'])).stdout).toBe('');
    // the installed single file runs as the vif script, without the checkout's node_modules
    const guest = await box.addGuest(44, 'installed', ['00:16:3e:00:44:01']);
    const { env } = (await import('../harness/xen-domain')).hookInvocation(guest.vifs[0]!, 'online', box.xs.socketPath);
    const byXen = await run('/usr/bin/nsenter', ['-t', String(box.dom0.pid), '-m', '-n', '--', '/etc/xen/scripts/vif-nat-dns', 'online', 'type_if=vif'], { env });
    expect(byXen.code).toBe(0);
    expect((await box.inDom0(['head', '-n', '1', '/etc/xen/scripts/vif-nat-dns'])).stdout.trim()).toBe(`#!${box.node}`);
    expect((await box.inDom0(['test', '-s', '/run/vnd-cache/vif-nat-dns.cache'])).code).toBe(0); // the code cache, written after the event
    expect(await box.dhcp(guest)).toMatchObject({ ip: expect.stringMatching(/^10\.0\.\d+\.1$/) });

    await box.inDom0(['sh', '-c', 'echo "LOG_LEVEL=debug" >> /etc/xen/vif-nat-dns.conf']);
    const again = await box.checkoutAdmin(['install', '--prefix', '/run/usr-local', '--cache-dir', '/run/vnd-cache']);
    expect(again.stdout).toContain('kept your changed /etc/xen/vif-nat-dns.conf; new version in /etc/xen/vif-nat-dns.conf.dist');
    expect(again.stdout).toContain('unchanged /etc/xen/scripts/vif-nat-dns');
    const removed = await box.checkoutAdmin(['uninstall', '--cache-dir', '/run/vnd-cache']);
    expect(removed.stdout).toContain('removed /etc/xen/scripts/vif-nat-dns');
    expect(removed.stdout).toContain('removed /etc/systemd/system/vif-nat-dns-pool.service');
    expect((await box.inDom0(['test', '-e', '/etc/systemd/system/vif-nat-dns-pool.service'])).code).toBe(1);
    expect(removed.stdout).toContain('kept (changed by you) /etc/xen/vif-nat-dns.conf');
    expect(removed.stdout).toContain('removed /etc/xen/vif-nat-dns.conf.dist');
    expect((await box.inDom0(['test', '-e', '/etc/xen/scripts/vif-nat-dns'])).code).toBe(1);
    expect((await box.inDom0(['test', '-e', '/run/vnd-cache/vif-nat-dns.cache'])).code).toBe(1);
    expect((await box.inDom0(['test', '-e', '/run/usr-local/lib/vif-nat-dns/vif-nat-dns.cjs'])).code).toBe(1);
    expect(removed.stdout).toContain('- raw VND-ANTISPOOF');
    expect((await box.inDom0(['iptables-save'])).stdout).not.toContain('VND-'); // the guests' firewall went too
  });

  it('regen-firewall and remove-firewall explain themselves and change nothing with --dry-run', async () => {
    for (const command of ['regen-firewall', 'remove-firewall']) {
      const help = await box.checkoutAdmin([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^${command} \\[--dry-run\\]`));
    }
    const before = (await box.inDom0(['iptables-save'])).stdout.replace(/^#.*\n/gm, '');
    expect((await box.checkoutAdmin(['regen-firewall', '--dry-run'])).stdout).toContain('+ raw VND-ANTISPOOF (from PREROUTING)\n'); // uninstall removed it
    expect((await box.inDom0(['iptables-save'])).stdout.replace(/^#.*\n/gm, '')).toBe(before);
  });
});
