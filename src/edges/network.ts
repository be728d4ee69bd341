// Routed NAT on a vif: address, host route, device group, proxy ARP, reverse-path filter, no IPv6, forwarding and one MASQUERADE rule; idempotent, via `ip -batch` and `iptables -w`.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { readText, removeIfThere, writeText } from './fs-text';
import { writeFileAtomicSync } from './atomic-write';
import { markerWithFirewall } from '../core/antispoof';
import type { FirewallPolicy } from '../core/firewall-rules';
import { VifError } from '../core/errors';
import type { Liveness } from '../core/plan-online';
import type { Exec } from './exec';
import { NETWORK_STARTED_MARKER } from '../core/config';
import { HANDOVER_ROUTE_METRIC } from '../core/handover';

export interface VifAddressing {
  readonly device: string;
  readonly vmIp: string;
  readonly dom0Ip: string;
  readonly metric?: number; // tap devices get one so the PV vif's route wins
  readonly group?: number; // the firewall's guest chains match this device group; offline puts the device back in group 0
}

export interface NetworkOps {
  liveness(ownDevice: string): Promise<Liveness>;
  deviceExists(device: string): boolean;
  /** proxy_arp is 0 on a new device and 1 once online configured it: tells a re-run from a first run without a spawn. */
  isConfigured(device: string): Promise<boolean>;
  rename(device: string, newName: string): Promise<void>;
  /** net.ipv4.conf.<device>.rp_filter (`all` for the host-wide value); undefined when there is no such device. */
  rpFilter(device: string): Promise<string | undefined>;
  /** Set it on a managed vif: 1 where the kernel checks its sources, 0 where its chain does (core/antispoof.ts). */
  setRpFilter(device: string, value: '0' | '1'): Promise<void>;
  up(vif: VifAddressing): Promise<void>;
  /**
   * The device down first (a down link passes nothing, whatever its rules), then its route and address, when known (an
   * offline whose files step failed does not know them), its group and its proxy ARP go.
   */
  down(vif: VifAddressing | Pick<VifAddressing, 'device' | 'group'>): Promise<void>;
  /** The other end of a migration hand-over takes the guest's route: metric 0 on `vif.device`, its hand-over route dropped. */
  takeOverRoute(vif: VifAddressing): Promise<void>;
  /** Make sure one MASQUERADE rule covers `network` out of `uplink`; `serialise` runs the add under the file lock. */
  ensureMasquerade(network: string, uplink: string, serialise: <T>(fn: () => Promise<T>) => Promise<T>): Promise<'present' | 'added'>;
  defaultRouteDevice(): Promise<string | undefined>;
  /** What `network-nat-dns start` recorded at boot (NETWORK_STARTED_MARKER), if it ran. */
  bootMarker(): Promise<string | undefined>;
  /** Record in that marker that the shared chains are in place for `policy` (undefined: that they are not) and whether new vifs may be left to the kernel. */
  recordFirewall(policy: FirewallPolicy | undefined, kernel: boolean): Promise<void>;
  /** Every IPv4 address with its device (`ip -4 addr`); an address may be on several devices (a migration hand-over). */
  addresses(): Promise<Array<[device: string, address: string]>>;
  /** Every device with its group number. */
  deviceGroups(): Promise<Map<string, number>>;
  setGroup(devices: readonly string[], group: number): Promise<void>;
}

/** Parse `ip -4 -o addr show` into [device, address] pairs. */
export function parseAddrPairs(output: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const line of output.split('\n')) {
    const match = /^\d+:\s+(\S+)\s+inet\s+([0-9.]+)\//.exec(line);
    if (match) pairs.push([match[1]!.replace(/@.*$/, ''), match[2]!]);
  }
  return pairs;
}

/** Parse `ip -4 -o addr show` into address -> devices carrying it (two vifs during a migration hand-over). */
export function parseAddrShow(output: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [device, address] of parseAddrPairs(output)) {
    const devices = map.get(address);
    if (!devices) map.set(address, [device]);
    else if (!devices.includes(device)) devices.push(device);
  }
  return map;
}

/** Parse `ip -N -o link show` into device -> group number. */
export function parseLinkGroups(output: string): Map<string, number> {
  const groups = new Map<string, number>();
  for (const line of output.split('\n')) {
    const match = /^\d+:\s+([^:@\s]+)(?:@\S*)?:.*\sgroup (\d+)/.exec(line);
    if (match) groups.set(match[1]!, Number(match[2]));
  }
  return groups;
}

/** The interface of the default route in /proc/net/route (destination 00000000), if any. */
export function parseDefaultRoute(procNetRoute: string): string | undefined {
  for (const line of procNetRoute.split('\n').slice(1)) {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (iface && destination === '00000000' && mask === '00000000') return iface;
  }
  return undefined;
}

export function createNetworkOps(exec: Exec, procRoot = '/proc'): NetworkOps {
  const sysctl = (path: string, value: string) => writeText(`${procRoot}/sys/net/ipv4/${path}`, value).catch((err) => {
    throw new VifError('NETWORK', `cannot set net.ipv4.${path.replace(/\//g, '.')}=${value}: ${(err as Error).message}`, 'is this run as root, in dom0?', { path }, err);
  });
  const masqueradeArgs = (op: '-C' | '-A', network: string, uplink: string) =>
    ['-w', '5', '-t', 'nat', op, 'POSTROUTING', '-s', network, '-o', uplink, '-j', 'MASQUERADE'];

  return {
    async liveness(ownDevice) {
      const { stdout } = await exec('ip', ['-4', '-o', 'addr', 'show'], { check: true });
      return { ownDevice, devicesByAddress: parseAddrShow(stdout) };
    },
    // /proc/sys/net follows the caller's network namespace (sysfs follows whoever mounted it)
    deviceExists: (device) => existsSync(`${procRoot}/sys/net/ipv4/conf/${device}`),
    async isConfigured(device) {
      return (await readText(`${procRoot}/sys/net/ipv4/conf/${device}/proxy_arp`).catch(() => '0')).trim() === '1';
    },
    async rename(device, newName) {
      await exec('ip', ['-batch', '-'], { input: `link set dev ${device} down\nlink set dev ${device} name ${newName}\n`, check: true });
    },
    async rpFilter(device) {
      return (await readText(`${procRoot}/sys/net/ipv4/conf/${device}/rp_filter`).catch(() => undefined))?.trim();
    },
    setRpFilter: (device, value) => sysctl(`conf/${device}/rp_filter`, value),
    async up(vif) {
      const metric = vif.metric ? ` metric ${vif.metric}` : '';
      await exec('ip', ['-batch', '-'], {
        check: true,
        input: [
          `link set dev ${vif.device} up`,
          `addr replace ${vif.dom0Ip}/32 dev ${vif.device}`,
          `route replace ${vif.vmIp}/32 dev ${vif.device} src ${vif.dom0Ip}${metric}`,
          ...(vif.group ? [`link set dev ${vif.device} group ${vif.group}`] : []),
        ].join('\n') + '\n',
      });
      await sysctl(`conf/${vif.device}/proxy_arp`, '1');
      // guests get IPv4 only: no link-local IPv6 on dom0's side, so nothing of dom0 answers them over IPv6
      await writeText(`${procRoot}/sys/net/ipv6/conf/${vif.device}/disable_ipv6`, '1').catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw new VifError('NETWORK', `cannot disable IPv6 on ${vif.device}: ${err.message}`, 'is this run as root, in dom0?', { device: vif.device }, err);
      });
      const forwarding = await readText(`${procRoot}/sys/net/ipv4/ip_forward`).catch(() => '0');
      if (forwarding.trim() !== '1') await sysctl('ip_forward', '1');
    },
    async down(vif) {
      const addressed = 'vmIp' in vif ? vif : undefined;
      const metric = addressed?.metric ? ` metric ${addressed.metric}` : '';
      // -force: keep going past what is already gone (offline may run twice). Down first, as Xen's own vif scripts do on
      // offline: the device is on its way out, and once its chain is gone a live link would be checked by nothing
      await exec('ip', ['-force', '-batch', '-'], {
        input: [
          `link set dev ${vif.device} down`,
          ...(addressed ? [
            `route del ${addressed.vmIp}/32 dev ${vif.device}${metric}`,
            ...(addressed.metric === undefined ? [`route del ${addressed.vmIp}/32 dev ${vif.device} metric ${HANDOVER_ROUTE_METRIC}`] : []),
            `addr del ${addressed.dom0Ip}/32 dev ${vif.device}`,
          ] : []),
          ...(vif.group ? [`link set dev ${vif.device} group 0`] : []),
        ].join('\n') + '\n',
      });
      // no longer configured (isConfigured): a later online of this device is a first one again (the device gone: nothing to do)
      await writeText(`${procRoot}/sys/net/ipv4/conf/${vif.device}/proxy_arp`, '0').catch(() => undefined);
    },
    async takeOverRoute(vif) {
      // the hand-over route may already be gone (or never existed: a failed migration hands the route back to the sender)
      const result = await exec('ip', ['-force', '-batch', '-'], {
        input: `route replace ${vif.vmIp}/32 dev ${vif.device} src ${vif.dom0Ip}\nroute del ${vif.vmIp}/32 dev ${vif.device} metric ${HANDOVER_ROUTE_METRIC}\n`,
      });
      if (/-:1\b/.test(result.stderr)) {
        throw new VifError('NETWORK', `cannot route ${vif.vmIp} through ${vif.device}: ${result.stderr.trim()}`,
          `add it by hand: ip route replace ${vif.vmIp}/32 dev ${vif.device} src ${vif.dom0Ip}`, { ...vif });
      }
    },
    async ensureMasquerade(network, uplink, serialise) {
      if ((await exec('iptables', masqueradeArgs('-C', network, uplink))).exitCode === 0) return 'present';
      return serialise(async () => {
        if ((await exec('iptables', masqueradeArgs('-C', network, uplink))).exitCode === 0) return 'present' as const;
        await exec('iptables', masqueradeArgs('-A', network, uplink), { check: true });
        return 'added' as const;
      });
    },
    bootMarker: () => readText(NETWORK_STARTED_MARKER).catch(() => undefined),
    async recordFirewall(policy, kernel) {
      const before = await readText(NETWORK_STARTED_MARKER).catch(() => undefined);
      const after = markerWithFirewall(before, policy, kernel);
      if (after === (before ?? '')) return;
      if (after === '') return removeIfThere(NETWORK_STARTED_MARKER);
      mkdirSync(dirname(NETWORK_STARTED_MARKER), { recursive: true, mode: 0o755 });
      writeFileAtomicSync(NETWORK_STARTED_MARKER, Buffer.from(after), { mode: 0o644 });
    },
    async defaultRouteDevice() {
      return parseDefaultRoute(await readText(`${procRoot}/net/route`).catch(() => ''));
    },
    async addresses() {
      return parseAddrPairs((await exec('ip', ['-4', '-o', 'addr', 'show'], { check: true })).stdout);
    },
    async deviceGroups() {
      return parseLinkGroups((await exec('ip', ['-N', '-o', 'link', 'show'], { check: true })).stdout);
    },
    async setGroup(devices, group) {
      if (devices.length > 0) await exec('ip', ['-batch', '-'], { check: true, input: devices.map((d) => `link set dev ${d} group ${group}\n`).join('') });
    },
  };
}
