// /etc/hosts parse and render: every line kept verbatim; entries found by exact address and name fields.
import { appendLines, fieldsOf, joinLines, splitLines, type Line } from './lines';
import { parseIPv4 } from './ipv4';

export interface HostsEntry {
  readonly index: number; // line index
  readonly address: string; // first field as written
  readonly ipv4: number | undefined; // strict IPv4 value, undefined for IPv6 or junk
  readonly names: readonly string[]; // canonical name and aliases, lowercased
}

export interface HostsFile {
  readonly lines: readonly Line[];
  readonly entries: readonly HostsEntry[];
}

export function parseHosts(content: string): HostsFile {
  return fromLines(splitLines(content));
}

function fromLines(lines: readonly Line[]): HostsFile {
  const entries: HostsEntry[] = [];
  lines.forEach((line, index) => {
    if (line.text.includes('\0')) return; // a line with NUL bytes is kept but never interpreted
    const fields = fieldsOf(line.text, true);
    if (fields.length < 2) return;
    const [address, ...names] = fields as [string, ...string[]];
    entries.push({ index, address, ipv4: parseIPv4(address), names: names.map((n) => n.toLowerCase()) });
  });
  return { lines, entries };
}

export function renderHosts(file: HostsFile): string {
  return joinLines(file.lines);
}

/** Entries naming `name` exactly (case-insensitive, as resolvers compare), in file order. */
export function entriesNamed(file: HostsFile, name: string): HostsEntry[] {
  const wanted = name.toLowerCase();
  return file.entries.filter((entry) => entry.names.includes(wanted));
}

export function hostsLine(address: string, name: string): string {
  return `${address}\t${name}`;
}

export function appendHostsLines(file: HostsFile, texts: readonly string[]): HostsFile {
  return fromLines(appendLines(file.lines, texts));
}

export function removeHostsLines(file: HostsFile, indexes: ReadonlySet<number>): HostsFile {
  return fromLines(file.lines.filter((_, index) => !indexes.has(index)));
}
