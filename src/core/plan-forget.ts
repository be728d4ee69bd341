// Plan of forgetting machines: their /etc/hosts lines and /etc/ethers bindings go, so the machine numbers can be handed out again.
import { removeEthersLines, type EthersFile } from './ethers-file';
import { removeHostsLines, type HostsFile } from './hosts-file';
import { decode, type Scheme } from './scheme';

export interface ForgetPlan {
  readonly hosts: HostsFile;
  readonly ethers: EthersFile;
  readonly removedHostsLines: readonly string[];
  readonly removedEthersLines: readonly string[];
}

/** Remove every managed line of the given machine numbers (all interfaces of each machine). */
export function planForget(scheme: Scheme, hosts: HostsFile, ethers: EthersFile, machines: ReadonlySet<number>): ForgetPlan {
  const ofMachine = (ip: number | undefined) => {
    const addr = ip === undefined ? undefined : decode(scheme, ip);
    return addr !== undefined && addr.side === 'vm' && machines.has(addr.machine);
  };
  const hostsRemove = new Set(hosts.entries.filter((e) => ofMachine(e.ipv4)).map((e) => e.index));
  const ethersRemove = new Set(ethers.entries.filter((e) => ofMachine(e.ipv4)).map((e) => e.index));
  return {
    hosts: removeHostsLines(hosts, hostsRemove),
    ethers: removeEthersLines(ethers, ethersRemove),
    removedHostsLines: [...hostsRemove].map((i) => hosts.lines[i]!),
    removedEthersLines: [...ethersRemove].map((i) => ethers.lines[i]!),
  };
}
