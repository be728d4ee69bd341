// Several interfaces, xend's invocation, an HVM guest's emulated NIC (tap) and vifname renames, all through the compiled hook.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, DOMAIN } from '../harness/sandbox';
import { antispoofing } from '../harness/probes';

let box: Sandbox;
beforeAll(async () => { box = await Sandbox.create(); await box.startDnsmasq(); });
afterAll(async () => { await box?.destroy(); });

describe('interfaces', () => {
  it('a guest with two vifs gets <name> and <name>-2 on one machine number, both with DHCP and DNS', async () => {
    const guest = await box.addGuest(20, 'multi', ['00:16:3e:00:20:01', '00:16:3e:00:20:02']);
    const results = await Promise.all(guest.vifs.map((vif) => box.runHook(vif, 'online')));
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const hosts = await box.dom0File('/etc/hosts');
    expect(hosts).toContain('10.0.1.1\tmulti\n');
    expect(hosts).toContain('10.0.1.2\tmulti-2\n');
    expect(await box.dhcp(guest, 0)).toMatchObject({ ip: '10.0.1.1', router: '10.0.1.129' });
    expect(await box.dhcp(guest, 1)).toMatchObject({ ip: '10.0.1.2', router: '10.0.1.130' });
    expect(await box.dig(guest, '10.0.1.130', `multi-2.${DOMAIN}`)).toBe('10.0.1.2');
  });

  it('runs as xend ran it: absolute XENBUS_PATH, no type_if, the name in $XENBUS_PATH/domain', async () => {
    const guest = await box.addGuest(21, 'Legacy-VM', ['00:16:3e:00:21:01'], { toolstack: 'xend' });
    expect(box.xs.read('/local/domain/21/name')).toBeUndefined();
    const result = await box.runHook(guest.vifs[0]!, 'online');
    expect(result.code).toBe(0);
    expect(box.xs.read('/local/domain/0/backend/vif/21/0/hotplug-status')).toBe('connected');
    expect(await box.dhcp(guest)).toMatchObject({ ip: '10.0.2.1' });
    expect((await box.runHook(guest.vifs[0]!, 'offline')).code).toBe(0);
    expect(await box.dom0File('/etc/ethers')).not.toContain('00:16:3e:00:21:01');
  });

  it('tap add/remove configure the emulated NIC with a route metric the PV vif beats', async () => {
    const vif = (await box.addGuest(22, 'hvm', ['00:16:3e:00:22:01'])).vifs[0]!;
    await box.inDom0(['ip', 'link', 'add', 'vif22.0-emu', 'type', 'veth', 'peer', 'name', 'emu22']);
    expect((await box.runHook(vif, 'add')).code).toBe(0);
    expect((await box.runHook(vif, 'online')).code).toBe(0);
    const routes = (await box.inDom0(['ip', '-4', 'route', 'show', '10.0.3.1/32'])).stdout;
    expect(routes).toMatch(/10\.0\.3\.1 dev vif22\.0 .*src 10\.0\.3\.129/);
    expect(routes).toMatch(/10\.0\.3\.1 dev vif22\.0-emu .*metric 10/);
    expect((await box.inDom0(['ip', 'route', 'get', '10.0.3.1'])).stdout).toContain('dev vif22.0 ');
    expect(await antispoofing(box)).toEqual(expect.arrayContaining(['vif22.0 10.0.3.1', 'vif22.0-emu 10.0.3.1'])); // each device its own chain
    // tap remove leaves the PV vif's ethers line alone; tap add writes no hotplug-status
    expect((await box.runHook(vif, 'remove')).code).toBe(0);
    expect(await box.dom0File('/etc/ethers')).toContain('00:16:3e:00:22:01 10.0.3.1');
    expect((await box.inDom0(['ip', '-4', 'route', 'show', '10.0.3.1/32'])).stdout).not.toContain('-emu');
    expect(await antispoofing(box)).toContain('vif22.0 10.0.3.1');
    expect(await antispoofing(box)).not.toContain('vif22.0-emu 10.0.3.1');
  });

  it('renames the vif to vifname, and refuses a vifname that is taken', async () => {
    const guest = await box.addGuest(23, 'named', ['00:16:3e:00:23:01'], { vifname: 'vifnamed' });
    expect((await box.runHook(guest.vifs[0]!, 'online')).code).toBe(0);
    expect((await box.inDom0(['ip', '-4', '-o', 'addr', 'show', 'dev', 'vifnamed'])).stdout).toContain('10.0.4.129/32');
    expect(await box.dhcp(guest)).toMatchObject({ ip: '10.0.4.1' });
    expect((await box.runHook(guest.vifs[0]!, 'online')).code).toBe(0); // already renamed: idempotent
    expect(await antispoofing(box)).toContain('vifnamed 10.0.4.1'); // the firewall follows the new name

    const clash = await box.addGuest(24, 'clash', ['00:16:3e:00:24:01'], { vifname: 'vifnamed' });
    const ethers = await box.dom0File('/etc/ethers');
    const result = await box.runHook(clash.vifs[0]!, 'online');
    expect(result.code).toBe(1);
    expect(box.xs.read('/local/domain/0/backend/vif/24/0/hotplug-error')).toMatch(/cannot rename vif24\.0 to vifnamed/);
    expect(await box.dom0File('/etc/ethers')).toBe(ethers);
    expect(await antispoofing(box)).toContain('vifnamed 10.0.4.1'); // the failed online left the other vif's rules alone
    expect((await box.runHook(guest.vifs[0]!, 'offline')).code).toBe(0);
    expect((await antispoofing(box)).filter((line) => line.startsWith('vifnamed '))).toEqual([]);
  });

  it('honours a /16 managed network from the environment (VIF_NAT_DNS_NETWORK)', async () => {
    const guest = await box.addGuest(25, 'slash16', ['00:16:3e:00:25:01']);
    const result = await box.runHook(guest.vifs[0]!, 'online', { VIF_NAT_DNS_NETWORK: '10.198.0.0/16' });
    expect(result.code, result.stderr).toBe(0);
    expect(await box.dom0File('/etc/hosts')).toContain('10.198.1.1\tslash16\n');
    expect(await box.dhcp(guest)).toMatchObject({ ip: '10.198.1.1', router: '10.198.1.129' });
    const nat = await box.inDom0(['iptables', '-w', '-t', 'nat', '-S', 'POSTROUTING']);
    expect(nat.stdout).toContain('-s 10.198.0.0/16');
  });
});
