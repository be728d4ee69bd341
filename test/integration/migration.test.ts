// xl migrate on one host, replayed step by step as libxl runs it: the receiver (<name>--incoming, same MAC) comes online while
// the sender still runs, the sender is renamed <name>--migratedaway and goes offline, the guest keeps its IP configuration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, DOMAIN, DOM0_UPLINK_IP, type Guest } from '../harness/sandbox';
import { antispoofing } from '../harness/probes';
import { populateVif, type VifSpec } from '../harness/xen-domain';

const MAC = '00:16:3e:00:33:01';
let box: Sandbox;
beforeAll(async () => { box = await Sandbox.create(); await box.startDnsmasq(); });
afterAll(async () => { await box?.destroy(); });

/** Routes to the guest's address in dom0, as "<device> <metric>" (metric 0 when none is shown). */
async function routesTo(ip: string): Promise<string[]> {
  const out = (await box.inDom0(['ip', '-4', '-o', 'route', 'show', `${ip}/32`])).stdout;
  return out.split('\n').filter(Boolean).map((line) => `${/ dev (\S+)/.exec(line)?.[1]} ${/ metric (\d+)/.exec(line)?.[1] ?? 0}`).sort();
}

/** xl creates the receiving domain with the same config (same MAC): its vif's guest end sits, unused, in the same guest. */
async function createReceiver(guest: Guest, domid: number): Promise<VifSpec> {
  const vif: VifSpec = { domid, devid: 0, name: `${guest.name}--incoming`, mac: MAC };
  const peer = `in${domid}`;
  const add = await box.inDom0(['ip', 'link', 'add', `vif${domid}.0`, 'address', 'fe:ff:ff:ff:ff:ff', 'type', 'veth', 'peer', 'name', peer, 'address', MAC, 'netns', String(guest.ns.pid)]);
  expect(add.code, add.stderr).toBe(0);
  populateVif(box.xs, vif);
  return vif;
}

/** The guest resumes on the receiver with the IP configuration it had (no DHCP): move it to the receiver's interface. */
async function resumeOn(guest: Guest, peer: string): Promise<void> {
  const script = `set -e
ip link set eth0 down; ip link set eth0 name old0
ip link set "$1" name eth0; ip link set eth0 up
ip addr add 10.0.1.1/8 dev eth0
ip route replace default via 10.0.1.129 dev eth0 onlink`;
  const result = await box.inNet(guest.ns, ['sh', '-c', script, 'sh', peer]);
  expect(result.code, result.stderr).toBe(0);
}

function hostsLines(hosts: string): string[] {
  return hosts.split('\n').filter((line) => /\b(web|incoming|migratedaway)\b/.test(line));
}

describe('migration on one host (libxl\'s sequence)', () => {
  it('keeps the name, the address and the binding; the route follows the receiving vif', async () => {
    const guest = await box.addGuest(3, 'web', [MAC]);
    expect((await box.runHook(guest.vifs[0]!, 'online')).code).toBe(0);
    expect(await box.dhcp(guest)).toMatchObject({ ip: '10.0.1.1', router: '10.0.1.129' });
    const hosts = await box.dom0File('/etc/hosts');
    const ethers = await box.dom0File('/etc/ethers');
    expect(hostsLines(hosts)).toEqual(['10.0.1.1\tweb']);

    // 1. the receiver's vif comes online under web--incoming while the sender still runs
    const receiver = await createReceiver(guest, 4);
    const incoming = await box.runHook(receiver, 'online');
    expect(incoming.code, incoming.stderr).toBe(0);
    expect(incoming.stderr).toMatch(/online vif4\.0: web 10\.0\.1\.1 \(00:16:3e:00:33:01\), dom0 side 10\.0\.1\.129/);
    expect(box.xs.read('/local/domain/0/backend/vif/4/0/hotplug-status')).toBe('connected');
    expect(await box.dom0File('/etc/hosts')).toBe(hosts);
    expect(await box.dom0File('/etc/ethers')).toBe(ethers);
    // the sender still carries the traffic while the memory is copied
    expect(await routesTo('10.0.1.1')).toEqual(['vif3.0 0', 'vif4.0 32']);
    expect(await box.egress(guest)).toBe(DOM0_UPLINK_IP);
    // each vif has its own anti-spoofing chain for the one address
    expect(await antispoofing(box)).toEqual(['vif3.0 10.0.1.1', 'vif4.0 10.0.1.1']);

    // 2. xl renames: sender -> web--migratedaway, receiver -> web; the guest runs on the receiver, same IP configuration
    box.xs.write('/local/domain/3/name', 'web--migratedaway');
    box.xs.write('/local/domain/4/name', 'web');
    await resumeOn(guest, 'in4');

    // 3. the sender is destroyed: its offline runs under web--migratedaway while its vif still exists
    const away = await box.runHook(guest.vifs[0]!, 'offline');
    expect(away.code).toBe(0);
    expect(away.stderr).toMatch(/10\.0\.1\.1 handed over to vif4\.0/);
    expect(away.stderr).not.toMatch(/warn/i);
    await box.inDom0(['ip', 'link', 'del', 'vif3.0']);
    box.xs.rm('/local/domain/0/backend/vif/3');
    box.xs.rm('/local/domain/3');

    expect(await box.dom0File('/etc/ethers')).toBe(ethers);
    expect(await box.dom0File('/etc/hosts')).toBe(hosts);
    expect(await routesTo('10.0.1.1')).toEqual(['vif4.0 0']);
    expect(await antispoofing(box)).toEqual(['vif4.0 10.0.1.1']); // the sender's offline removed only its own
    expect(await box.egress(guest)).toBe(DOM0_UPLINK_IP);
    expect(await box.dig(guest, '10.0.1.129', `web.${DOMAIN}`)).toBe('10.0.1.1');
    // a later DHCP renewal on the receiver gets the same address
    expect(await box.dhcp(guest)).toMatchObject({ ip: '10.0.1.1', router: '10.0.1.129' });

    // 4. the guest's next ordinary offline (on the receiver) cleans up as usual
    expect((await box.runHook(receiver, 'offline')).code).toBe(0);
    expect(await box.dom0File('/etc/ethers')).toBe('');
    expect(await routesTo('10.0.1.1')).toEqual([]);
    expect(hostsLines(await box.dom0File('/etc/hosts'))).toEqual(['10.0.1.1\tweb']);
  });

  it('a migration that fails at the target leaves the sender routed and bound', async () => {
    const guest = await box.addGuest(5, 'web', [MAC]);
    expect((await box.runHook(guest.vifs[0]!, 'online')).code).toBe(0);
    expect(await box.dhcp(guest)).toMatchObject({ ip: '10.0.1.1' });
    const ethers = await box.dom0File('/etc/ethers');

    const receiver = await createReceiver(guest, 6);
    expect((await box.runHook(receiver, 'online')).code).toBe(0);
    // "migration target: Failure, destroying our copy": the receiver goes offline still named web--incoming
    const failed = await box.runHook(receiver, 'offline');
    expect(failed.code).toBe(0);
    expect(failed.stderr).toMatch(/10\.0\.1\.1 handed over to vif5\.0/);
    expect(await box.dom0File('/etc/ethers')).toBe(ethers);
    expect(await routesTo('10.0.1.1')).toEqual(['vif5.0 0']);
    expect(await box.egress(guest)).toBe(DOM0_UPLINK_IP);
    await box.destroyGuest(guest);
  });

  it('a different guest under <name>--incoming (another MAC) is refused while <name> runs', async () => {
    const guest = await box.addGuest(7, 'web', [MAC]);
    expect((await box.runHook(guest.vifs[0]!, 'online')).code).toBe(0);
    const impostor = await box.addGuest(8, 'web--incoming', ['00:16:3e:00:33:99']);
    const result = await box.runHook(impostor.vifs[0]!, 'online');
    expect(result.code).toBe(1);
    expect(box.xs.read('/local/domain/0/backend/vif/8/0/hotplug-error')).toMatch(/web's address 10\.0\.1\.1 is bound in \/etc\/ethers to 00:16:3e:00:33:01, whose vif vif7\.0 is still up/);
    expect(await routesTo('10.0.1.1')).toEqual(['vif7.0 0']);
  });
});
