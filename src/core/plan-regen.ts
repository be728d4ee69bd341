// Plan of regen-ethers: /etc/ethers rebuilt from the vifs that are running, hosts entries allocated for names seen for the first time.
import { allocate } from './allocation';
import { appendEthersLines, ethersLine, removeEthersLines, type EthersFile } from './ethers-file';
import { appendHostsLines, type HostsFile } from './hosts-file';
import { describeError } from './errors';
import { decode, type Scheme } from './scheme';

export interface RunningVif {
  readonly domid: number;
  readonly devid: number;
  readonly mac: string; // validated
  readonly domainName: string;
  readonly pinnedIp?: string;
}

export interface RegenPlan {
  readonly hosts: HostsFile;
  readonly ethers: EthersFile;
  readonly addedHostsLines: readonly string[];
  readonly removedEthersLines: readonly string[];
  readonly addedEthersLines: readonly string[];
  readonly skipped: readonly string[]; // running vifs we could not place, with why
}

/** A pool dom0's regen: names come from the registry only, and a name the registry says runs on another host is not bound here. */
export interface PoolRegen {
  /** why a name these files lack gets no address here (the registry did not register it, or cannot be reached) */
  readonly unregistered: string;
  /** hostname -> the pool host its live binding is on, for the names bound elsewhere */
  readonly boundElsewhere: ReadonlyMap<string, string>;
}

export function planRegen(scheme: Scheme, hostsIn: HostsFile, ethersIn: EthersFile, running: readonly RunningVif[], pool?: PoolRegen): RegenPlan {
  let hosts = hostsIn;
  const wanted: string[] = [];
  const taken = new Map<string, string>(); // address -> who
  const skipped: string[] = [];
  const addedHostsLines: string[] = [];
  for (const vif of [...running].sort((a, b) => a.domid - b.domid || a.devid - b.devid)) {
    const who = `domain ${vif.domid} (${vif.domainName}) vif ${vif.devid}`;
    try {
      const allocation = allocate(scheme, hosts, ethersIn, { domainName: vif.domainName, y: vif.devid + 1, pinnedIp: vif.pinnedIp });
      if (pool && allocation.newHostsLines.length > 0) { skipped.push(`${who}: ${allocation.hostname} ${pool.unregistered}`); continue; }
      const elsewhere = pool?.boundElsewhere.get(allocation.hostname);
      if (elsewhere) { skipped.push(`${who}: ${allocation.hostname} runs on pool host ${elsewhere} per the registry (migrated away, or two domains of one name)`); continue; }
      const holder = taken.get(allocation.vmIp);
      if (holder) { skipped.push(`${who}: ${allocation.vmIp} already belongs to ${holder}`); continue; }
      taken.set(allocation.vmIp, who);
      if (allocation.newHostsLines.length > 0) {
        hosts = appendHostsLines(hosts, allocation.newHostsLines);
        addedHostsLines.push(...allocation.newHostsLines);
      }
      wanted.push(ethersLine(vif.mac, allocation.vmIp));
    } catch (err) {
      skipped.push(`${who}: ${describeError(err)}`);
    }
  }

  // ours: lines binding a MAC to a VM address of the scheme; everything else stays byte for byte
  const remove = new Set<number>();
  const kept = new Set<string>();
  for (const entry of ethersIn.entries) {
    if (entry.ipv4 === undefined || decode(scheme, entry.ipv4)?.side !== 'vm') continue;
    const text = ethersLine(entry.mac, entry.target);
    if (wanted.includes(text) && !kept.has(text) && ethersIn.lines[entry.index]! === text) { kept.add(text); continue; }
    remove.add(entry.index);
  }
  const addedEthersLines = wanted.filter((line) => !kept.has(line));
  const ethers = appendEthersLines(removeEthersLines(ethersIn, remove), addedEthersLines);
  return {
    hosts, ethers, addedHostsLines, addedEthersLines, skipped,
    removedEthersLines: [...remove].map((index) => ethersIn.lines[index]!),
  };
}
