// Failures an administrator will meet: dnsmasq down or its pid file stale, an address held by a live vif, ip failing half-way, a full or read-only /etc.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, REPO } from '../harness/sandbox';

let box: Sandbox;
beforeAll(async () => { box = await Sandbox.create({ etcSize: '8m' }); await box.startDnsmasq(); });
afterAll(async () => { await box?.destroy(); });

async function files() {
  return { hosts: await box.dom0File('/etc/hosts'), ethers: await box.dom0File('/etc/ethers') };
}

function expectReported(domid: number, pattern: RegExp) {
  expect(box.xs.read(`/local/domain/0/backend/vif/${domid}/0/hotplug-status`)).toBe('error');
  expect(box.xs.read(`/local/domain/0/backend/vif/${domid}/0/hotplug-error`)).toMatch(pattern);
}

describe('failures', () => {
  it('refuses a guest whose address another live vif holds: hotplug-error set, files unchanged', async () => {
    const first = await box.addGuest(30, 'Web.1', ['00:16:3e:00:30:01']);
    expect((await box.runHook(first.vifs[0]!, 'online')).code).toBe(0);
    const second = await box.addGuest(31, 'web-1', ['00:16:3e:00:31:01']);
    const before = await files();
    const result = await box.runHook(second.vifs[0]!, 'online');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/web-1's address 10\.0\.1\.1 is bound in \/etc\/ethers to 00:16:3e:00:30:01, whose vif vif30\.0 is still up/);
    expectReported(31, /rename one/);
    expect(await files()).toEqual(before);
    expect((await box.inDom0(['ip', '-4', '-o', 'addr', 'show', 'dev', 'vif31.0'])).stdout).toBe('');
  });

  it('ip failing half-way: files and the vif are rolled back and the error names the command', async () => {
    const guest = await box.addGuest(32, 'halfway', ['00:16:3e:00:32:01']);
    const before = await files();
    const result = await box.runHook(guest.vifs[0]!, 'online', { PATH: `${join(REPO, 'test', 'harness', 'faults')}:/usr/sbin:/usr/bin:/sbin:/bin` });
    expect(result.code).toBe(1);
    expectReported(32, /ip -batch - failed with exit code 1: .*injected fault/);
    expect(await files()).toEqual(before);
    expect((await box.inDom0(['ip', '-4', '-o', 'addr', 'show', 'dev', 'vif32.0'])).stdout).toBe('');
    expect((await box.inDom0(['iptables-save', '-t', 'raw'])).stdout).not.toContain('vif32.0'); // its anti-spoofing rules too
    // and the same guest comes up once ip works again
    expect((await box.runHook(guest.vifs[0]!, 'online')).code).toBe(0);
  });

  it('a stale pid file pointing at another process: nothing is signalled, online completes with a warning', async () => {
    await box.writeDom0File('/run/dnsmasq/dnsmasq.pid', `${box.dom0.pid}\n`);
    const guest = await box.addGuest(33, 'stale', ['00:16:3e:00:33:01']);
    const result = await box.runHook(guest.vifs[0]!, 'online');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`names pid ${box.dom0.pid}, which is "sleep", not dnsmasq`));
    expect(box.dom0.holder.child.exitCode).toBeNull();
    expect(box.xs.read('/local/domain/0/backend/vif/33/0/hotplug-status')).toBe('connected');
  });

  it('dnsmasq stopped: online still succeeds, with a warning', async () => {
    await box.stopDnsmasq();
    const guest = await box.addGuest(34, 'nodns', ['00:16:3e:00:34:01']);
    const result = await box.runHook(guest.vifs[0]!, 'online');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warn: dnsmasq not reloaded/);
    expect(await box.dom0File('/etc/ethers')).toContain('00:16:3e:00:34:01 10.0.');
    await box.startDnsmasq();
    expect(await box.dhcp(guest)).toMatchObject({ router: expect.stringMatching(/^10\.0\.\d+\.129$/) });
  });

  it('a full /etc: the originals stay intact, the error says so, nothing is left behind', async () => {
    await box.inDom0(['sh', '-c', 'dd if=/dev/zero of=/etc/filler bs=64k 2>/dev/null; sync']);
    const guest = await box.addGuest(35, 'fulldisk', ['00:16:3e:00:35:01']);
    const before = await files();
    const result = await box.runHook(guest.vifs[0]!, 'online');
    await box.inDom0(['rm', '-f', '/etc/filler']);
    expect(result.code).toBe(1);
    expectReported(35, /ENOSPC/);
    expect(await files()).toEqual(before);
    expect((await box.inDom0(['sh', '-c', 'ls /etc | grep -E "^(hosts|ethers)\\." || true'])).stdout).toBe('');
  });

  it('a read-only /etc: clear error, nothing changed', async () => {
    await box.inDom0(['mount', '-o', 'remount,bind,ro', '/etc']);
    const guest = await box.addGuest(36, 'readonly', ['00:16:3e:00:36:01']);
    const before = await files();
    const result = await box.runHook(guest.vifs[0]!, 'online');
    await box.inDom0(['mount', '-o', 'remount,bind,rw', '/etc']);
    expect(result.code).toBe(1);
    expectReported(36, /EROFS.*read-only/);
    expect(await files()).toEqual(before);
  });

  it('offline of a guest that is already gone exits 0 and says what it skipped', async () => {
    const result = await box.runHook({ domid: 99, devid: 0, name: 'ghost', mac: '00:16:3e:00:99:01' }, 'offline');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/offline vif99\.0: no managed address/);
  });
});

describe('a lock that is never released', () => {
  it('online fails after LOCK_WAIT_MS with an error saying what to do (and says where it is after WARN_AFTER_MS); offline gives up quickly and exits 0', async () => {
    await box.inDom0(['sh', '-c', 'mkdir /run/vif-nat-dns.lock && touch -d "+1 hour" /run/vif-nat-dns.lock']); // a holder that looks alive
    const guest = await box.addGuest(60, 'locked-out', ['00:16:3e:00:60:01']);
    const online = await box.runHook(guest.vifs[0]!, 'online', { VIF_NAT_DNS_LOCK_WAIT_MS: '1500', VIF_NAT_DNS_WARN_AFTER_MS: '500' });
    expect(online.code).toBe(1);
    // still running after WARN_AFTER_MS: it says which steps are done and that it waits for the files' lock
    expect(online.stderr).toMatch(/warn: online vif60\.0: still running after 0\.5 s; steps done: xenstore; now waiting for its request to be applied to \/etc\/hosts and \/etc\/ethers/);
    expect(box.xs.read('/local/domain/0/backend/vif/60/0/hotplug-error')).toMatch(/gave up waiting \d+ ms for the lock \/run\/vif-nat-dns\.lock .*remove \/run\/vif-nat-dns\.lock/);
    const offline = await box.runHook(guest.vifs[0]!, 'offline', { VIF_NAT_DNS_LOCK_WAIT_MS: '1500', VIF_NAT_DNS_WARN_AFTER_MS: '500' });
    expect(offline.code).toBe(0);
    expect(offline.stderr).toMatch(/offline vif60\.0: still running after 0\.5 s; steps done: none; now tearing the vif down/);
    expect(offline.stderr).toMatch(/updating \/etc\/ethers: gave up waiting/);
    await box.inDom0(['rmdir', '/run/vif-nat-dns.lock']);
  });

  it('an offline that cannot update the files still takes the vif down and out of the guests\' group before its chain goes', async () => {
    const guest = await box.addGuest(61, 'stuck-offline', ['00:16:3e:00:61:01']);
    const link = async () => (await box.inDom0(['ip', '-N', '-o', 'link', 'show', 'dev', 'vif61.0'])).stdout;
    expect((await box.runHook(guest.vifs[0]!, 'online')).code).toBe(0);
    expect(await link()).toMatch(/[<,]UP[,>]/);
    expect(await link()).not.toContain(' group 0 ');
    await box.inDom0(['sh', '-c', 'mkdir /run/vif-nat-dns.lock && touch -d "+1 hour" /run/vif-nat-dns.lock']);
    try {
      const offline = await box.runHook(guest.vifs[0]!, 'offline', { VIF_NAT_DNS_LOCK_WAIT_MS: '1500' });
      expect(offline.code).toBe(0);
      expect(offline.stderr).toMatch(/updating \/etc\/ethers: gave up waiting/);
      // its anti-spoofing chain is gone: up and in the group, the forwarding chain would trust whatever it sends
      expect((await box.inDom0(['iptables-save', '-t', 'raw'])).stdout).not.toContain('vif61.0');
      expect(await link()).not.toMatch(/[<,]UP[,>]/);
      expect(await link()).toContain(' group 0 ');
      expect((await box.inDom0(['ip', '-4', 'route', 'show', 'dev', 'vif61.0'])).stdout).toBe('');
    } finally {
      await box.inDom0(['rmdir', '/run/vif-nat-dns.lock']);
    }
  });
});
