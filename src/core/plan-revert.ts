// Inverse of an applied file change, computed against the files as they are now so others' updates survive a rollback.
import { appendEthersLines, removeEthersLines, type EthersFile } from './ethers-file';
import { removeHostsLines, type HostsFile } from './hosts-file';
import type { FileChange } from './plan-online';

function firstIndexes(lines: readonly string[], texts: readonly string[]): Set<number> {
  const found = new Set<number>();
  for (const text of texts) {
    const index = lines.findIndex((line, i) => line === text && !found.has(i));
    if (index !== -1) found.add(index);
  }
  return found;
}

export function revertChange(hosts: HostsFile, ethers: EthersFile, change: FileChange): { hosts: HostsFile; ethers: EthersFile } {
  const hostsRemove = firstIndexes(hosts.lines, change.addedHostsLines);
  const ethersRemove = firstIndexes(ethers.lines, change.addedEthersLines);
  let nextEthers = ethersRemove.size > 0 ? removeEthersLines(ethers, ethersRemove) : ethers;
  const missing = change.removedEthersLines.filter((text) => !nextEthers.lines.includes(text));
  if (missing.length > 0) nextEthers = appendEthersLines(nextEthers, missing);
  return { hosts: hostsRemove.size > 0 ? removeHostsLines(hosts, hostsRemove) : hosts, ethers: nextEthers };
}
