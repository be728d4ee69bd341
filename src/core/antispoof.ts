// How a vif's forged sources are stopped: by strict reverse-path checks (one shared rule, and the device's rp_filter;
// nothing to run per online) or by its own VND-SRC chain; and the boot marker's lines that tell hooks what `network-nat-dns start` put in place.
import type { FirewallPolicy } from './firewall-rules';

/**
 * kernel: the vif has no chain; VND-ANTISPOOF's rpfilter rule (raw, before conntrack: see antispoofTail) drops what the
 * guest sends from any address whose route does not leave through this vif (its own /32 is the only one that does), and
 * net.ipv4.conf.<vif>.rp_filter=1 does the same in routing, a second check that outlives a flush of the raw table and
 * tells offline and regen-firewall the vif's mode. chain: VND-SRC-<vif> in the raw table, dispatched to past that rule,
 * and rp_filter=0 on the device (the chain checks exactly).
 */
export type AntispoofMode = 'kernel' | 'chain';

/** The value of a device's rp_filter that marks (and, with `all` not loose, makes) a kernel-filtered vif. */
export const RP_FILTER_STRICT = '1';
export const RP_FILTER_OFF = '0';

/** The kernel applies the larger of net.ipv4.conf.all.rp_filter and the device's: `all`=2 (loose) makes a device's 1 loose. */
export function kernelFilters(deviceRpFilter: string | undefined, allRpFilter: string | undefined): boolean {
  const all = (allRpFilter ?? '').trim();
  return deviceRpFilter?.trim() === RP_FILTER_STRICT && (all === '0' || all === '1');
}

/**
 * Lines of the host's sysctl configuration that would set a new vif's rp_filter behind the hook's back: systemd's udev
 * rule runs systemd-sysctl for every new network device, which applies `net.ipv4.conf.*.rp_filter` (and any pattern or
 * vif name) to it, at a moment no hook controls (a storm backs udev up by seconds). Where one exists, no vif is left to
 * the kernel: a reset to 2 would make it loose; a reset to 1 would make a chained vif look kernel-filtered. `all` and
 * `default` apply before the hook runs; a name that is neither a pattern nor a vif's is some other device's.
 */
export function rpFilterOverrides(files: ReadonlyArray<{ readonly path: string; readonly text: string }>): string[] {
  const found: string[] = [];
  for (const { path, text } of files) {
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      const match = /^-?\s*net[./]ipv4[./]conf[./](.+)[./]rp_filter\s*=/.exec(line); // `-key` alone excludes a key: not a setting
      const device = match?.[1];
      if (device === undefined || device === 'all' || device === 'default') return;
      if (/[*?[]/.test(device) || device.startsWith('vif')) found.push(`${path}:${i + 1}: ${line}`);
    });
  }
  return found;
}

/** The marker's line saying regen-firewall found no such override (and KERNEL_ANTISPOOF=yes): hooks may leave new vifs to the kernel. */
export const KERNEL_ANTISPOOF_LINE = 'kernel-antispoof';

export interface OnlineModeInput {
  /** KERNEL_ANTISPOOF: no gives every vif its chain. */
  readonly allowed: boolean;
  readonly typeIf: 'vif' | 'tap';
  /** The device was already configured (a repeated online): it keeps the kernel's check if it has it, else its chain. */
  readonly repeated: boolean;
  /** The device's rp_filter now (read for a repeated online). */
  readonly deviceRpFilter: string | undefined;
  /** An incoming migration whose address another live vif still routes (the hand-over route, metric 32). */
  readonly behindOtherVif: boolean;
  readonly allRpFilter: string | undefined;
  /** The boot marker says the shared chains are in place for this policy and new vifs may be left to the kernel. */
  readonly firewallInPlace: boolean;
}

/**
 * Kernel filtering only where the vif's own route is the guest's best one and nothing else needs the firewall run: an
 * emulated NIC's route loses to its PV vif's, and a migration's receiving vif sits behind the sender's until the hand-over,
 * so strict reverse-path filtering would drop their guests' packets; without the boot step the online's batch creates the
 * shared chains (the vif's chain comes in the same process); `all`=2 would make the device's filter loose.
 */
export function onlineAntispoofMode(input: OnlineModeInput): AntispoofMode {
  const usable = input.allowed && input.typeIf === 'vif' && !input.behindOtherVif && input.firewallInPlace
    && kernelFilters(RP_FILTER_STRICT, input.allRpFilter);
  // a repeated online keeps what the device has: left to the kernel stays so; one with a chain (or of an older version) keeps a chain
  return usable && (!input.repeated || kernelFilters(input.deviceRpFilter, input.allRpFilter)) ? 'kernel' : 'chain';
}

const lines = (marker: string | undefined) => (marker ?? '').split('\n').map((line) => line.trim()).filter(Boolean);

/** Whether the boot step's marker says the MASQUERADE rule for `network` out of `uplink` was put in place. */
export function bootStepCovers(marker: string | undefined, network: string, uplink: string): boolean {
  return lines(marker).includes(`masquerade ${network} ${uplink}`);
}

/**
 * The marker's line for the shared chains regen-firewall put in place: the policy they were built from, and that
 * VND-ANTISPOOF ends in the rpfilter rule (a marker from a version without it covers nothing: hooks then run iptables,
 * which adds the rule, until network-nat-dns start records it).
 */
export function firewallLine(policy: FirewallPolicy): string {
  const services = policy.dom0Services.map((s) => `${s.protocol}/${s.ports}`).join(',') || '-';
  return `firewall group=${policy.group} isolate=${policy.isolate ? 'yes' : 'no'} services=${services} antispoof=rpfilter`;
}

export function markerCoversFirewall(marker: string | undefined, policy: FirewallPolicy): boolean {
  return lines(marker).includes(firewallLine(policy));
}

/** Whether regen-firewall left new vifs to the kernel (KERNEL_ANTISPOOF_LINE): also what offline and regen trust a vif's rp_filter for. */
export const markerAllowsKernel = (marker: string | undefined): boolean => lines(marker).includes(KERNEL_ANTISPOOF_LINE);

/**
 * The marker with its firewall lines replaced: `policy`'s, and the kernel's if `kernel` (both removed for undefined);
 * '' when nothing is left.
 */
export function markerWithFirewall(marker: string | undefined, policy: FirewallPolicy | undefined, kernel: boolean): string {
  const kept = lines(marker).filter((line) => !line.startsWith('firewall ') && line !== KERNEL_ANTISPOOF_LINE);
  const all = policy ? [...kept, firewallLine(policy), ...(kernel ? [KERNEL_ANTISPOOF_LINE] : [])] : kept;
  return all.map((line) => `${line}\n`).join('');
}
