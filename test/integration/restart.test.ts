// A guest that restarts keeps its hostname and address: with the same MAC, with a new MAC after a clean shutdown, and after a crash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, DOMAIN } from '../harness/sandbox';

let box: Sandbox;
beforeAll(async () => { box = await Sandbox.create(); await box.startDnsmasq(); });
afterAll(async () => { await box?.destroy(); });

async function boot(domid: number, mac: string) {
  const guest = await box.addGuest(domid, 'db', [mac]);
  const result = await box.runHook(guest.vifs[0]!, 'online');
  expect(result.stderr).toMatch(/online vif\d+\.0: db 10\.0\.1\.1 /);
  expect(result.code).toBe(0);
  return guest;
}

describe('restarts', () => {
  it('same MAC, new domid: same address, DHCP and DNS work again', async () => {
    const first = await boot(10, '00:16:3e:00:10:01');
    expect(await box.dhcp(first)).toMatchObject({ ip: '10.0.1.1', router: '10.0.1.129' });
    expect((await box.runHook(first.vifs[0]!, 'offline')).code).toBe(0);
    await box.destroyGuest(first);

    const second = await boot(11, '00:16:3e:00:10:01');
    expect(await box.dhcp(second)).toMatchObject({ ip: '10.0.1.1' });
    expect(await box.dig(second, '10.0.1.129', `db.${DOMAIN}`)).toBe('10.0.1.1');
  });

  it('new MAC after a clean shutdown: same address although dnsmasq still leases it to the old MAC', async () => {
    const old = [...(await box.dom0File('/var/lib/misc/dnsmasq.leases')).matchAll(/00:16:3e:00:10:01 10\.0\.1\.1/g)];
    expect(old).toHaveLength(1);
    const previous = { domid: 11, devid: 0, name: 'db', mac: '00:16:3e:00:10:01' };
    expect((await box.runHook(previous, 'offline')).code).toBe(0);
    await box.destroyGuest(box.guest(11));
    const guest = await boot(12, '00:16:3e:00:12:01');
    expect(await box.dom0File('/etc/ethers')).toBe('00:16:3e:00:12:01 10.0.1.1\n');
    expect(await box.dhcp(guest)).toMatchObject({ ip: '10.0.1.1', router: '10.0.1.129' });
    expect(box.dnsmasqLog()).not.toMatch(/not using configured address 10\.0\.1\.1 because it is leased to 00:16:3e:00:12/);
  });

  it('new MAC after a crash (offline never ran): the dead holder\'s binding is taken over', async () => {
    // domain 12 crashes: its vif disappears without an offline
    await box.destroyGuest(box.guest(12));
    const guest = await boot(13, '00:16:3e:00:13:01');
    expect(await box.dom0File('/etc/ethers')).toBe('00:16:3e:00:13:01 10.0.1.1\n');
    expect(await box.dhcp(guest)).toMatchObject({ ip: '10.0.1.1' });
    expect((await box.dom0File('/etc/hosts')).match(/\tdb$/gm)).toHaveLength(1);
  });
});
