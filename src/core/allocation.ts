// Address allocation: a hostname recorded in /etc/hosts keeps its address; a new one gets the lowest free machine number.
import { VifError } from './errors';
import { entriesAt, entriesNamed, forEachLeadingAddress, hostsLine, type HostsFile } from './hosts-file';
import type { EthersFile } from './ethers-file';
import { formatIPv4, parseIPv4 } from './ipv4';
import { decode, encode, machineOf, maxMachine, textPrefix, type Scheme, type SchemeAddress } from './scheme';
import { hostnameFor } from './hostname';

export interface AllocationRequest {
  readonly domainName: string;
  readonly y: number; // 1..127
  readonly pinnedIp?: string; // the backend's `ip` node, already checked to be one address
}

export interface Allocation {
  readonly hostname: string;
  readonly machine: number;
  readonly y: number;
  readonly vmIp: string;
  readonly dom0Ip: string;
  readonly newHostsLines: readonly string[]; // lines to append to /etc/hosts (empty when already recorded)
}

/** Machine numbers taken by any managed address in /etc/hosts (and `alsoHosts`) or /etc/ethers, as a bitmap indexed by machine number. */
export function usedMachines(scheme: Scheme, hosts: HostsFile, ethers?: EthersFile, alsoHosts?: HostsFile): Uint8Array {
  const used = new Uint8Array(maxMachine(scheme) + 1);
  for (const file of alsoHosts ? [hosts, alsoHosts] : [hosts]) {
    forEachLeadingAddress(file, textPrefix(scheme), (ip) => {
      const machine = machineOf(scheme, ip);
      if (machine !== undefined) used[machine] = 1;
    });
  }
  for (const entry of ethers?.entries ?? []) {
    const machine = entry.ipv4 === undefined ? undefined : machineOf(scheme, entry.ipv4);
    if (machine !== undefined) used[machine] = 1;
  }
  return used;
}

/** The lowest free number; with `skip`, the (skip+1)-th lowest when there are that many (hosts racing for one number spread out). */
export function lowestFreeMachine(scheme: Scheme, used: Uint8Array, skip = 0): number {
  const max = maxMachine(scheme);
  let machine = used.indexOf(0, 1);
  for (let n = 0, next = machine; n < skip && next !== -1 && next <= max; n++) {
    next = used.indexOf(0, next + 1);
    if (next !== -1 && next <= max) machine = next;
  }
  if (machine !== -1 && machine <= max) return machine;
  throw new VifError('EXHAUSTED', `all ${max} machine numbers of ${scheme.text} are taken in /etc/hosts`,
    'release unused ones with `vif-nat-dns-admin forget <hostname>` or `gc`, or configure a larger NETWORK', { network: scheme.text, max });
}

/** Where `name` is recorded at a managed VM-side address, if anywhere; refuses names recorded only outside the scheme. */
export function recordedAddress(scheme: Scheme, hosts: HostsFile, name: string): SchemeAddress | undefined {
  const entries = entriesNamed(hosts, name);
  for (const entry of entries) {
    const addr = entry.ipv4 === undefined ? undefined : decode(scheme, entry.ipv4);
    if (addr && addr.side === 'vm') return addr;
  }
  const outside = entries.find((entry) => entry.ipv4 !== undefined);
  if (outside) {
    throw new VifError('HOSTNAME_CONFLICT', `hostname ${name} is already in /etc/hosts at ${outside.address}, outside the managed network ${scheme.text}`,
      `remove or rename that /etc/hosts line, or rename the domain`, { hostname: name, address: outside.address });
  }
  return undefined;
}

function namesAt(hosts: HostsFile, ip: number): string[] {
  return entriesAt(hosts, ip).flatMap((entry) => entry.names);
}

function checkAddressFree(hosts: HostsFile, ip: number, hostname: string): void {
  const others = namesAt(hosts, ip).filter((name) => name !== hostname);
  if (others.length > 0) {
    throw new VifError('HOSTNAME_CONFLICT', `address ${formatIPv4(ip)} for ${hostname} is already recorded in /etc/hosts for ${others.join(', ')}`,
      'rename one of the domains, or fix /etc/hosts by hand and run `regen-ethers`', { hostname, address: formatIPv4(ip), others });
  }
}

/** The used machine numbers of these files, computed when first needed; a batch passes one it keeps up to date across its requests. */
export type UsedMachines = () => Uint8Array;

/** `skipFree`: take the (skipFree+1)-th lowest free number (a pool host that lost races for the lowest). */
export function allocate(scheme: Scheme, hosts: HostsFile, ethers: EthersFile, request: AllocationRequest,
  used: UsedMachines = () => usedMachines(scheme, hosts, ethers), skipFree = 0): Allocation {
  const hostname = hostnameFor(request.domainName, request.y);
  const result = (machine: number, y: number, newHostsLines: string[]): Allocation => ({
    hostname, machine, y, newHostsLines,
    vmIp: formatIPv4(encode(scheme, { machine, y, side: 'vm' })),
    dom0Ip: formatIPv4(encode(scheme, { machine, y, side: 'dom0' })),
  });

  const recorded = recordedAddress(scheme, hosts, hostname);
  if (recorded) {
    const recordedIp = formatIPv4(encode(scheme, recorded));
    if (request.pinnedIp !== undefined && request.pinnedIp !== recordedIp) {
      throw new VifError('HOSTNAME_CONFLICT', `hostname ${hostname} is recorded at ${recordedIp} but the vif's ip node asks for ${request.pinnedIp}`,
        `drop ip= from the vif, or change the /etc/hosts line for ${hostname}`, { hostname, recorded: recordedIp, pinned: request.pinnedIp });
    }
    if (request.pinnedIp === undefined && recorded.y !== request.y) {
      throw new VifError('HOSTNAME_CONFLICT', `hostname ${hostname} is recorded at ${recordedIp}, which is interface ${recorded.y}'s address, not interface ${request.y}'s`,
        'another domain probably owns this name (e.g. "web-2" vs the 2nd vif of "web"): rename one domain', { hostname, recorded: recordedIp });
    }
    return result(recorded.machine, recorded.y, []);
  }

  if (request.pinnedIp !== undefined) {
    const pinned = decode(scheme, request.pinnedIp);
    if (!pinned || pinned.side !== 'vm') {
      throw new VifError('IP_OUTSIDE_SCHEME', `the vif's ip node ${JSON.stringify(request.pinnedIp)} is not a VM address of ${scheme.text} (10.<machine>.<1..127>)`,
        `drop ip= from the vif to get an address allocated, or pick one inside ${scheme.text} with a last octet 1..127`, { ip: request.pinnedIp });
    }
    checkAddressFree(hosts, parseIPv4(request.pinnedIp)!, hostname);
    return result(pinned.machine, pinned.y, [hostsLine(request.pinnedIp, hostname)]);
  }

  const baseName = hostnameFor(request.domainName, 1);
  const base = request.y === 1 ? undefined : recordedAddress(scheme, hosts, baseName);
  if (base && base.y !== 1) {
    throw new VifError('HOSTNAME_CONFLICT', `hostname ${baseName} is recorded at interface ${base.y}'s address of machine ${base.machine}, so ${hostname} has no machine number to share`,
      'another domain probably owns this name (e.g. "web-2" vs the 2nd vif of "web"): rename one domain', { hostname: baseName });
  }
  if (base) {
    const ip = encode(scheme, { machine: base.machine, y: request.y, side: 'vm' });
    checkAddressFree(hosts, ip, hostname);
    return result(base.machine, request.y, [hostsLine(formatIPv4(ip), hostname)]);
  }

  const machine = lowestFreeMachine(scheme, used(), skipFree);
  const lines = [hostsLine(formatIPv4(encode(scheme, { machine, y: 1, side: 'vm' })), baseName)];
  if (request.y !== 1) lines.push(hostsLine(formatIPv4(encode(scheme, { machine, y: request.y, side: 'vm' })), hostname));
  return result(machine, request.y, lines);
}
