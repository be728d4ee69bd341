// End to end as libxl runs the hook: files, DHCP, DNS, NAT egress, hotplug-status; then offline and a second offline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, DOMAIN, DOM0_UPLINK_IP } from '../harness/sandbox';

let box: Sandbox;
let hostsBefore: string;

beforeAll(async () => {
  box = await Sandbox.create();
  await box.startDnsmasq();
  hostsBefore = await box.dom0File('/etc/hosts');
});
afterAll(async () => { await box?.destroy(); });

describe('online then offline of one PV vif (xl)', () => {
  it('online writes exactly one hosts and one ethers line, and the guest gets DHCP, DNS and NAT', async () => {
    const guest = await box.addGuest(7, 'Web_Server', ['00:16:3e:00:07:01']);
    const result = await box.runHook(guest.vifs[0]!, 'online');
    expect(result.stderr).toContain('web-server 10.0.1.1');
    expect(result.code).toBe(0);
    expect(await box.dom0File('/etc/hosts')).toBe(`${hostsBefore}${hostsBefore.endsWith('\n') || hostsBefore === '' ? '' : '\n'}10.0.1.1\tweb-server\n`);
    expect(await box.dom0File('/etc/ethers')).toBe('00:16:3e:00:07:01 10.0.1.1\n');
    expect(box.xs.read('/local/domain/0/backend/vif/7/0/hotplug-status')).toBe('connected');

    const lease = await box.dhcp(guest);
    expect(lease).toMatchObject({ ip: '10.0.1.1', router: '10.0.1.129' });
    expect(await box.dig(guest, '10.0.1.129', `web-server.${DOMAIN}`)).toBe('10.0.1.1');
    expect(await box.egress(guest)).toBe(DOM0_UPLINK_IP);

    const nat = await box.inDom0(['iptables', '-w', '-t', 'nat', '-S', 'POSTROUTING']);
    expect(nat.stdout.match(/MASQUERADE/g)).toHaveLength(1);
  });

  it('a second online changes nothing', async () => {
    const vif = { domid: 7, devid: 0, name: 'Web_Server', mac: '00:16:3e:00:07:01' };
    const hosts = await box.dom0File('/etc/hosts');
    const ethers = await box.dom0File('/etc/ethers');
    const routes = (await box.inDom0(['ip', '-4', 'route', 'show', 'table', 'all'])).stdout;
    const result = await box.runHook(vif, 'online');
    expect(result.code).toBe(0);
    expect(await box.dom0File('/etc/hosts')).toBe(hosts);
    expect(await box.dom0File('/etc/ethers')).toBe(ethers);
    expect((await box.inDom0(['ip', '-4', 'route', 'show', 'table', 'all'])).stdout).toBe(routes);
    const nat = await box.inDom0(['iptables', '-w', '-t', 'nat', '-S', 'POSTROUTING']);
    expect(nat.stdout.match(/MASQUERADE/g)).toHaveLength(1);
  });

  it('offline removes the ethers line, route and address but keeps the hosts line; a second offline exits 0', async () => {
    const vif = { domid: 7, devid: 0, name: 'Web_Server', mac: '00:16:3e:00:07:01' };
    const result = await box.runHook(vif, 'offline');
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/warn|error/);
    expect(await box.dom0File('/etc/ethers')).toBe('');
    expect(await box.dom0File('/etc/hosts')).toContain('10.0.1.1\tweb-server\n');
    const addrs = await box.inDom0(['ip', '-4', '-o', 'addr', 'show', 'dev', 'vif7.0']);
    expect(addrs.stdout).not.toContain('10.0.1.129');
    const routes = await box.inDom0(['ip', '-4', 'route', 'show']);
    expect(routes.stdout).not.toContain('10.0.1.1 ');
    // down, as Xen's own vif scripts leave a vif on offline
    expect((await box.inDom0(['ip', '-o', 'link', 'show', 'dev', 'vif7.0'])).stdout).not.toMatch(/[<,]UP[,>]/);
    const again = await box.runHook(vif, 'offline');
    expect(again.code).toBe(0);
  });
});
