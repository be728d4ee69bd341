// Plan of an online event: the address, the new /etc/hosts and /etc/ethers, and whom we displace; pure, so a failed plan changes nothing.
import { allocate, type AllocationRequest, type Allocation, type UsedMachines } from './allocation';
import { VifError } from './errors';
import { appendEthersLines, ethersLine, removeEthersLines, type EthersFile } from './ethers-file';
import { appendHostsLines, type HostsFile } from './hosts-file';
import { formatIPv4, parseIPv4 } from './ipv4';
import { decode, encode, type Scheme } from './scheme';

/** Which devices, if any, hold each dom0-side address now (from `ip -4 addr`; two during a migration hand-over). */
export interface Liveness {
  readonly ownDevice: string;
  readonly devicesByAddress: ReadonlyMap<string, readonly string[]>;
}

export interface OnlineRequest extends AllocationRequest {
  readonly mac: string; // already validated and lowercased
}

export interface FileChange {
  readonly addedHostsLines: readonly string[];
  readonly addedEthersLines: readonly string[];
  readonly removedEthersLines: readonly string[];
}

export interface OnlinePlan extends FileChange {
  readonly allocation: Allocation;
  readonly hosts: HostsFile;
  readonly ethers: EthersFile;
  readonly displacedMacs: readonly string[]; // MACs whose binding to our address we removed
}

export type OnlinePlanResult = { readonly kind: 'plan'; readonly plan: OnlinePlan } | { readonly kind: 'needs-liveness' };

/** The device other than ours holding the dom0 side of `vmIp`, if any. */
export function liveHolder(scheme: Scheme, liveness: Liveness, vmIp: number): string | undefined {
  const addr = decode(scheme, vmIp);
  if (!addr) return undefined;
  const devices = liveness.devicesByAddress.get(formatIPv4(encode(scheme, { ...addr, side: 'dom0' }))) ?? [];
  return devices.find((device) => device !== liveness.ownDevice);
}

export function planOnline(scheme: Scheme, hosts: HostsFile, ethers: EthersFile, request: OnlineRequest, liveness?: Liveness, used?: UsedMachines): OnlinePlanResult {
  const allocation = allocate(scheme, hosts, ethers, request, used);
  const ourIp = parseIPv4(allocation.vmIp)!;
  const wanted = ethersLine(request.mac, allocation.vmIp);
  const remove = new Set<number>();
  const displacedMacs: string[] = [];
  let present = false;

  for (const entry of ethers.entries) {
    const sameMac = entry.mac === request.mac;
    if (entry.ipv4 === ourIp) {
      if (sameMac && !present) { present = true; continue; }
      if (sameMac) { remove.add(entry.index); continue; } // exact duplicate of our own line
      if (!liveness) return { kind: 'needs-liveness' };
      const holder = liveHolder(scheme, liveness, ourIp);
      if (holder) {
        throw new VifError('ADDRESS_IN_USE', `${allocation.hostname}'s address ${allocation.vmIp} is bound in /etc/ethers to ${entry.mac}, whose vif ${holder} is still up`,
          `two running domains derive the hostname ${allocation.hostname}: rename one, or shut the other down first`,
          { hostname: allocation.hostname, address: allocation.vmIp, otherMac: entry.mac, otherDevice: holder });
      }
      remove.add(entry.index);
      displacedMacs.push(entry.mac);
    } else if (sameMac && entry.ipv4 !== undefined && decode(scheme, entry.ipv4)?.side === 'vm') {
      if (!liveness) return { kind: 'needs-liveness' };
      const holder = liveHolder(scheme, liveness, entry.ipv4);
      if (holder) {
        throw new VifError('MAC_IN_USE', `MAC ${request.mac} of ${allocation.hostname} is already used by the running vif ${holder} (${entry.target})`,
          'give each vif its own mac= in the domain configs', { mac: request.mac, otherAddress: entry.target, otherDevice: holder });
      }
      remove.add(entry.index); // a stale binding of our MAC to another managed address
    }
  }

  const removedEthersLines = [...remove].map((index) => ethers.lines[index]!);
  let nextEthers = remove.size > 0 ? removeEthersLines(ethers, remove) : ethers;
  const addedEthersLines = present ? [] : [wanted];
  if (!present) nextEthers = appendEthersLines(nextEthers, addedEthersLines);
  const nextHosts = allocation.newHostsLines.length > 0 ? appendHostsLines(hosts, allocation.newHostsLines) : hosts;

  return {
    kind: 'plan',
    plan: {
      allocation, hosts: nextHosts, ethers: nextEthers, displacedMacs,
      addedHostsLines: allocation.newHostsLines, addedEthersLines, removedEthersLines,
    },
  };
}

export function changesFiles(change: FileChange): { hosts: boolean; ethers: boolean } {
  return { hosts: change.addedHostsLines.length > 0, ethers: change.addedEthersLines.length + change.removedEthersLines.length > 0 };
}
