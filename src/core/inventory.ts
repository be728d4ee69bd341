// The managed machines as files and running vifs describe them: one row per managed /etc/hosts name.
import type { EthersFile } from './ethers-file';
import type { HostsFile } from './hosts-file';
import { formatIPv4 } from './ipv4';
import { decode, encode, type Scheme } from './scheme';
import { escapeRegExp } from './regexp';

export interface InventoryRow {
  readonly hostname: string;
  readonly machine: number;
  readonly y: number;
  readonly address: string;
  readonly macs: readonly string[]; // bound in /etc/ethers
  readonly onlineDevice?: string; // the vif carrying the dom0 side now (both, comma-separated, during a migration hand-over)
}

export function inventory(scheme: Scheme, hosts: HostsFile, ethers: EthersFile, devicesByAddress: ReadonlyMap<string, readonly string[]>): InventoryRow[] {
  const rows: InventoryRow[] = [];
  for (const entry of hosts.entries) {
    const addr = entry.ipv4 === undefined ? undefined : decode(scheme, entry.ipv4);
    if (!addr || addr.side !== 'vm') continue;
    const macs = ethers.entries.filter((e) => e.ipv4 === entry.ipv4).map((e) => e.mac);
    const dom0 = formatIPv4(encode(scheme, { ...addr, side: 'dom0' }));
    for (const hostname of entry.names) {
      rows.push({ hostname, machine: addr.machine, y: addr.y, address: entry.address, macs, onlineDevice: devicesByAddress.get(dom0)?.join(',') });
    }
  }
  return rows.sort((a, b) => a.machine - b.machine || a.y - b.y || a.hostname.localeCompare(b.hostname));
}

/** Glob with * and ? only, matched against the whole name. */
export function globMatch(pattern: string, name: string): boolean {
  const regex = new RegExp(`^${escapeRegExp(pattern).replace(/\\\*/g, '.*').replace(/\\\?/g, '.')}$`);
  return regex.test(name);
}
