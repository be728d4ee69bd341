// /etc/ethers parse and render: `MAC IPv4-or-hostname` lines; '#' is a comment only at the start of a line (as dnsmasq reads it).
import { appendLines, fieldsOf, joinLines, splitLines, type Line } from './lines';
import { normalizeMac } from './mac';
import { parseIPv4 } from './ipv4';

export interface EthersEntry {
  readonly index: number;
  readonly mac: string; // normalised aa:bb:cc:dd:ee:ff
  readonly target: string; // address or hostname as written
  readonly ipv4: number | undefined;
}

export interface EthersFile {
  readonly lines: readonly Line[];
  readonly entries: readonly EthersEntry[];
}

export function parseEthers(content: string): EthersFile {
  return fromLines(splitLines(content));
}

function fromLines(lines: readonly Line[]): EthersFile {
  const entries: EthersEntry[] = [];
  lines.forEach((line, index) => {
    if (line.text.includes('\0')) return;
    const fields = fieldsOf(line.text, false);
    if (fields.length !== 2) return; // malformed lines are kept verbatim, never interpreted
    const mac = normalizeMac(fields[0]!);
    if (mac === undefined) return;
    entries.push({ index, mac, target: fields[1]!, ipv4: parseIPv4(fields[1]!) });
  });
  return { lines, entries };
}

export function renderEthers(file: EthersFile): string {
  return joinLines(file.lines);
}

export function ethersLine(mac: string, address: string): string {
  return `${mac} ${address}`;
}

export function appendEthersLines(file: EthersFile, texts: readonly string[]): EthersFile {
  return fromLines(appendLines(file.lines, texts));
}

export function removeEthersLines(file: EthersFile, indexes: ReadonlySet<number>): EthersFile {
  return fromLines(file.lines.filter((_, index) => !indexes.has(index)));
}
