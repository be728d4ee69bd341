// What dom0 publishes in xenstore for a guest's interface so the guest can configure itself without DHCP: the nodes, where, and who may read them.
import type { Allocation } from './allocation';

/** Under the guest's home, one directory per vif (devid), as the toolstack's device/vif/<devid>. */
export const GUEST_CONFIG_NODE = 'vif-nat-dns';

export interface GuestConfig {
  readonly domid: number;
  readonly devid: number;
  readonly ip: string;
  readonly prefix: number;
  readonly gateway: string;
  readonly dns: string;
  readonly hostname: string;
  readonly domain: string;
  readonly mac: string;
}

export type XsChange =
  | { readonly op: 'rm' | 'mkdir'; readonly path: string }
  | { readonly op: 'write'; readonly path: string; readonly value: string }
  | { readonly op: 'set-perms'; readonly path: string; readonly perms: readonly string[] };

export const guestConfigDir = (domid: number): string => `/local/domain/${domid}/${GUEST_CONFIG_NODE}`;
export const guestConfigPath = (domid: number, devid: number): string => `${guestConfigDir(domid)}/${devid}`;

/** Owned by dom0, nobody else may do anything, except that the guest may read. */
export const guestReadOnly = (domid: number): readonly string[] => ['n0', `r${domid}`];

/** The guest's side of the routed link: its address in the managed network, dom0's side of the vif as router and DNS server (dnsmasq answers there). */
export function guestConfigFor(domid: number, devid: number, allocation: Pick<Allocation, 'vmIp' | 'dom0Ip' | 'hostname'>, prefix: number, domain: string, mac: string): GuestConfig {
  return { domid, devid, ip: allocation.vmIp, prefix, gateway: allocation.dom0Ip, dns: allocation.dom0Ip, hostname: allocation.hostname, domain, mac };
}

export function guestConfigNodes(config: GuestConfig): Record<string, string> {
  const { ip, prefix, gateway, dns, hostname, domain, mac } = config;
  return { ip, prefix: String(prefix), gateway, dns, hostname, domain, mac };
}

/**
 * Replace the interface's directory as a whole (nothing stale or planted survives), every node dom0-owned and
 * readable by the guest only; the parent directory too, so that a guest can neither write nor remove any of it.
 */
export function planPublish(config: GuestConfig): XsChange[] {
  const perms = guestReadOnly(config.domid);
  const dir = guestConfigDir(config.domid);
  const base = guestConfigPath(config.domid, config.devid);
  const changes: XsChange[] = [
    { op: 'rm', path: base },
    { op: 'mkdir', path: dir }, { op: 'set-perms', path: dir, perms },
    { op: 'mkdir', path: base }, { op: 'set-perms', path: base, perms },
  ];
  for (const [name, value] of Object.entries(guestConfigNodes(config))) {
    changes.push({ op: 'write', path: `${base}/${name}`, value }, { op: 'set-perms', path: `${base}/${name}`, perms });
  }
  return changes;
}

/** The interface's directory goes; the (dom0-owned) parent stays for the domain's other vifs and goes with the domain. */
export function planUnpublish(domid: number, devid: number): XsChange[] {
  return [{ op: 'rm', path: guestConfigPath(domid, devid) }];
}
