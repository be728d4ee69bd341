// /etc/ethers parse and render: `MAC IPv4-or-hostname` lines; '#' is a comment only at the start of a line (as dnsmasq reads it).
import { appendLines, fieldsOf, joinLines, reindex, removeLines, splitLines, type LineList } from './lines';
import { normalizeMac } from './mac';
import { parseIPv4 } from './ipv4';

export interface EthersEntry {
  readonly index: number;
  readonly mac: string; // normalised aa:bb:cc:dd:ee:ff
  readonly target: string; // address or hostname as written
  readonly ipv4: number | undefined;
}

export interface EthersFile extends LineList {
  readonly entries: readonly EthersEntry[];
}

export function parseEthers(content: string): EthersFile {
  return fromLines(splitLines(content));
}

function parseEntry(text: string, index: number): EthersEntry | undefined {
  if (text.includes('\0')) return undefined;
  const fields = fieldsOf(text, false);
  if (fields.length !== 2) return undefined; // malformed lines are kept verbatim, never interpreted
  const mac = normalizeMac(fields[0]!);
  if (mac === undefined) return undefined;
  return { index, mac, target: fields[1]!, ipv4: parseIPv4(fields[1]!) };
}

function fromLines(list: LineList, from = 0, known: readonly EthersEntry[] = []): EthersFile {
  const entries = [...known];
  const { lines } = list;
  for (let index = from; index < lines.length; index++) {
    const entry = parseEntry(lines[index]!, index);
    if (entry) entries.push(entry);
  }
  return { lines, terminated: list.terminated, entries };
}

export function renderEthers(file: EthersFile): string {
  return joinLines(file);
}

export function ethersLine(mac: string, address: string): string {
  return `${mac} ${address}`;
}

export function appendEthersLines(file: EthersFile, texts: readonly string[]): EthersFile {
  return fromLines(appendLines(file, texts), file.lines.length, file.entries);
}

export function removeEthersLines(file: EthersFile, indexes: ReadonlySet<number>): EthersFile {
  return { ...removeLines(file, indexes), entries: reindex(file.entries, indexes) };
}
