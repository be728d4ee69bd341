// /etc/hosts parse and render: every line kept verbatim; entries found by exact address and name fields.
// Files can hold 100,000+ lines, so the hook's lookups scan lines without allocating and parse only the lines they hit.
import { appendLines, fieldsOf, joinLines, removeLines, splitLines, type LineList } from './lines';
import { parseIPv4 } from './ipv4';
import { escapeRegExp } from './regexp';

export interface HostsEntry {
  readonly index: number; // line index
  readonly address: string; // first field as written
  readonly ipv4: number | undefined; // strict IPv4 value, undefined for IPv6 or junk
  readonly names: readonly string[]; // canonical name and aliases, lowercased
}

export interface HostsFile extends LineList {
  /** Every entry, parsed on first use (listings, doctor); the hook's lookups below do not need it. */
  readonly entries: readonly HostsEntry[];
}

const isBlank = (code: number) => code === 32 || code === 9 || code === 13 || code === 12 || code === 11;

class LazyHostsFile implements HostsFile {
  private parsed?: readonly HostsEntry[];
  private text?: string;
  constructor(readonly lines: readonly string[], readonly terminated: boolean, content?: string) {
    this.text = content;
  }
  /** The file as one string, for whole-file searches (one native regex pass beats 100,000 small ones). */
  get content(): string {
    this.text ??= joinLines(this);
    return this.text;
  }
  get entries(): readonly HostsEntry[] {
    this.parsed ??= this.lines.flatMap((text, index) => parseEntry(text, index) ?? []);
    return this.parsed;
  }
}

export function parseHosts(content: string): HostsFile {
  const { lines, terminated } = splitLines(content);
  return new LazyHostsFile(lines, terminated, content);
}

/** One line as an entry: address, then at least one name, before any `#`; lines holding NUL are never interpreted. */
export function parseEntry(text: string, index: number): HostsEntry | undefined {
  if (text.includes('\0')) return undefined;
  const fields = fieldsOf(text, true);
  if (fields.length < 2) return undefined;
  const [address, ...names] = fields as [string, ...string[]];
  return { index, address, ipv4: parseIPv4(address), names: names.map((n) => n.toLowerCase()) };
}

/**
 * The IPv4 value of a line's first field when that field is an address followed by a blank (as in an entry),
 * without allocating; undefined for comments, IPv6, junk and lines holding NUL.
 */
export function leadingIPv4(text: string): number | undefined {
  const length = text.length;
  let i = 0;
  while (i < length && isBlank(text.charCodeAt(i))) i++;
  // four decimal octets, no leading zeros (as parseIPv4), scanned in place
  let value = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (text.charCodeAt(i) !== 46) return undefined;
      i++;
    }
    const first = i;
    let octet = 0;
    while (i < length && i - first < 4) {
      const code = text.charCodeAt(i);
      if (code < 48 || code > 57) break;
      octet = octet * 10 + (code - 48);
      i++;
    }
    const digits = i - first;
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && text.charCodeAt(first) === 48)) return undefined;
    value = value * 256 + octet;
  }
  if (i >= length || !isBlank(text.charCodeAt(i))) return undefined; // an entry's address is followed by its names
  if (text.includes('\0')) return undefined;
  return value >>> 0;
}

export function renderHosts(file: HostsFile): string {
  return file instanceof LazyHostsFile ? file.content : joinLines(file);
}

function nameMatcher(name: string, flags: string): RegExp {
  const escaped = escapeRegExp(name.toLowerCase());
  return new RegExp(`(?:^|[ \\t\\r\\f\\v])${escaped}(?=$|[ \\t\\r\\f\\v#])`, flags);
}

/** Entries naming `name` exactly (case-insensitive, as resolvers compare), in file order; never a substring match. */
export function entriesNamed(file: HostsFile, name: string): HostsEntry[] {
  const wanted = name.toLowerCase();
  const content = file instanceof LazyHostsFile ? file.content : joinLines(file);
  const candidates = nameMatcher(wanted, 'gim');
  const found: HostsEntry[] = [];
  let line = 0;
  let lineStart = 0;
  let last = -1;
  for (let match = candidates.exec(content); match; match = candidates.exec(content)) {
    // line number of the match: count the newlines since the previous one
    for (let nl = content.indexOf('\n', lineStart); nl !== -1 && nl < match.index; nl = content.indexOf('\n', lineStart)) {
      line++;
      lineStart = nl + 1;
    }
    if (line === last) continue;
    last = line;
    const entry = parseEntry(file.lines[line]!, line);
    if (entry?.names.includes(wanted)) found.push(entry);
  }
  return found;
}

/** Entries at the address `ip`. */
export function entriesAt(file: HostsFile, ip: number): HostsEntry[] {
  const found: HostsEntry[] = [];
  file.lines.forEach((text, index) => {
    if (leadingIPv4(text) !== ip) return;
    const entry = parseEntry(text, index);
    if (entry) found.push(entry);
  });
  return found;
}

/**
 * The IPv4 addresses the file's entries start with (an address with no name counts too: harmless when reserving).
 * `textPrefix` (e.g. "10." for 10.0.0.0/8) skips, with one native startsWith, lines that cannot be in the network.
 */
export function leadingAddresses(file: HostsFile, textPrefix = ''): number[] {
  const out: number[] = [];
  for (const text of file.lines) {
    if (!text.startsWith(textPrefix) && !isBlank(text.charCodeAt(0))) continue;
    const ip = leadingIPv4(text);
    if (ip !== undefined) out.push(ip);
  }
  return out;
}

export function hostsLine(address: string, name: string): string {
  return `${address}\t${name}`;
}

/** Appends whole lines; entries already parsed are carried over, the new lines parsed lazily with the rest. */
export function appendHostsLines(file: HostsFile, texts: readonly string[]): HostsFile {
  const list = appendLines(file, texts);
  if (texts.length === 0 || !(file instanceof LazyHostsFile)) return new LazyHostsFile(list.lines, list.terminated);
  // appending never rewrites what is there: the new text is the old text plus the new lines (no re-join of 100,000 lines)
  const before = file.content;
  const content = `${before}${before === '' || file.terminated ? '' : '\n'}${texts.join('\n')}\n`;
  return new LazyHostsFile(list.lines, list.terminated, content);
}

export function removeHostsLines(file: HostsFile, indexes: ReadonlySet<number>): HostsFile {
  const list = removeLines(file, indexes);
  return new LazyHostsFile(list.lines, list.terminated);
}
