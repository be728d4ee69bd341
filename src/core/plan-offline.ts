// Plan of an offline event: drop this vif's `MAC IP` line from /etc/ethers; /etc/hosts is never touched.
import { removeEthersLines, type EthersFile } from './ethers-file';
import type { HostsFile } from './hosts-file';
import { recordedAddress } from './allocation';
import { hostnameFor } from './hostname';
import { formatIPv4, parseIPv4 } from './ipv4';
import { decode, encode, type Scheme } from './scheme';
import { liveHolder, type Liveness } from './plan-online';

export interface OfflineRequest {
  readonly domainName?: string; // may be gone at teardown
  readonly y: number;
  readonly mac?: string;
  readonly dom0IpsOnDevice?: readonly string[]; // what the vif itself still carries, a fallback when the name is gone
}

export interface OfflinePlan {
  readonly hostname?: string;
  readonly vmIp?: string;
  readonly dom0Ip?: string;
  readonly ethers: EthersFile;
  readonly removedEthersLines: readonly string[];
  readonly keptForLiveVif: readonly string[]; // lines left alone because another running vif holds that address
  readonly otherHolder?: string; // another live vif holding this guest's address (the other end of a migration hand-over)
}

function findAddress(scheme: Scheme, hosts: HostsFile, request: OfflineRequest): { hostname?: string; vmIp?: number } {
  if (request.domainName !== undefined) {
    try {
      const hostname = hostnameFor(request.domainName, request.y);
      const addr = recordedAddress(scheme, hosts, hostname);
      if (addr && addr.y === request.y) return { hostname, vmIp: encode(scheme, addr) };
      return { hostname };
    } catch {
      // an unusable name: fall back to what the device carries
    }
  }
  for (const ip of request.dom0IpsOnDevice ?? []) {
    const addr = decode(scheme, ip);
    if (addr?.side === 'dom0') return { vmIp: encode(scheme, { ...addr, side: 'vm' }) };
  }
  return {};
}

export function planOffline(scheme: Scheme, hosts: HostsFile, ethers: EthersFile, request: OfflineRequest, liveness: Liveness): OfflinePlan {
  const { hostname, vmIp } = findAddress(scheme, hosts, request);
  const remove = new Set<number>();
  const kept: string[] = [];
  for (const entry of ethers.entries) {
    if (entry.ipv4 === undefined || decode(scheme, entry.ipv4)?.side !== 'vm') continue;
    // exact fields: our MAC at our address; with no name and no address to go by, our MAC at any managed address
    const ours = vmIp !== undefined
      ? entry.ipv4 === vmIp && (request.mac === undefined || entry.mac === request.mac)
      : hostname === undefined && request.mac !== undefined && entry.mac === request.mac;
    if (!ours) continue;
    if (liveHolder(scheme, liveness, entry.ipv4)) { kept.push(ethers.lines[entry.index]!); continue; }
    remove.add(entry.index);
  }
  const dom0 = vmIp === undefined ? undefined : decode(scheme, vmIp);
  return {
    hostname,
    vmIp: vmIp === undefined ? undefined : formatIPv4(vmIp),
    dom0Ip: dom0 ? formatIPv4(encode(scheme, { ...dom0, side: 'dom0' })) : undefined,
    ethers: remove.size > 0 ? removeEthersLines(ethers, remove) : ethers,
    removedEthersLines: [...remove].map((index) => ethers.lines[index]!),
    keptForLiveVif: kept,
    otherHolder: vmIp === undefined ? undefined : liveHolder(scheme, liveness, vmIp),
  };
}

