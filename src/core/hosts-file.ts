// /etc/hosts parse and render: every line kept verbatim; entries found by exact address and name fields.
// Files can hold 100,000+ lines, so the file is kept as one string: the hook's lookups scan that text natively and
// parse only the lines they hit; the line array is split only for the admin listings.
import { fieldsOf, joinLines, removeLines, splitLines, type LineList } from './lines';
import { formatIPv4, parseIPv4 } from './ipv4';
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
  private list?: LineList;
  private parsed?: readonly HostsEntry[];
  /** `content` is the file as one string: the hook's lookups scan it natively and never split 100,000 lines. */
  constructor(readonly content: string, list?: LineList) {
    this.list = list;
  }
  get lines(): readonly string[] {
    this.list ??= splitLines(this.content);
    return this.list.lines;
  }
  get terminated(): boolean {
    return this.content === '' || this.content.endsWith('\n');
  }
  get entries(): readonly HostsEntry[] {
    this.parsed ??= this.lines.flatMap((text, index) => parseEntry(text, index) ?? []);
    return this.parsed;
  }
}

const contentOf = (file: HostsFile) => (file instanceof LazyHostsFile ? file.content : joinLines(file));

export function parseHosts(content: string): HostsFile {
  return new LazyHostsFile(content);
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
  return text.includes('\0') ? undefined : scanLeadingIPv4(text, 0, text.length, '');
}

/** leadingIPv4 of the line text[start, end) (no NUL check), undefined unless the address starts with `prefix`. */
function scanLeadingIPv4(text: string, start: number, end: number, prefix: string): number | undefined {
  let i = start;
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  if (!text.startsWith(prefix, i)) return undefined;
  // four decimal octets, no leading zeros (as parseIPv4), scanned in place
  let value = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (text.charCodeAt(i) !== 46) return undefined;
      i++;
    }
    const first = i;
    let octet = 0;
    while (i < end && i - first < 4) {
      const code = text.charCodeAt(i);
      if (code < 48 || code > 57) break;
      octet = octet * 10 + (code - 48);
      i++;
    }
    const digits = i - first;
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && text.charCodeAt(first) === 48)) return undefined;
    value = value * 256 + octet;
  }
  if (i >= end || !isBlank(text.charCodeAt(i))) return undefined; // an entry's address is followed by its names
  return value >>> 0;
}

export function renderHosts(file: HostsFile): string {
  return contentOf(file);
}

function nameMatcher(name: string, flags: string): RegExp {
  const escaped = escapeRegExp(name.toLowerCase());
  return new RegExp(`(?:^|[ \\t\\r\\f\\v])${escaped}(?=$|[ \\t\\r\\f\\v#])`, flags);
}

/** Entries naming `name` exactly (case-insensitive, as resolvers compare), in file order; never a substring match. */
export function entriesNamed(file: HostsFile, name: string): HostsEntry[] {
  const wanted = name.toLowerCase();
  return entriesOfLinesMatching(contentOf(file), nameMatcher(wanted, 'gim')).filter((entry) => entry.names.includes(wanted));
}

/** Entries at the address `ip`. */
export function entriesAt(file: HostsFile, ip: number): HostsEntry[] {
  const address = escapeRegExp(formatIPv4(ip));
  return entriesOfLinesMatching(contentOf(file), new RegExp(`^[ \\t\\r\\f\\v]*${address}[ \\t\\r\\f\\v]`, 'gm'))
    .filter((entry) => entry.ipv4 === ip);
}

/** Parsed entries of the lines where the global regex `candidates` matches (one native pass; lines counted only up to the hits). */
function entriesOfLinesMatching(content: string, candidates: RegExp): HostsEntry[] {
  const found: HostsEntry[] = [];
  let line = 0;
  let lineStart = 0;
  let last = -1;
  for (let match = candidates.exec(content); match; match = candidates.exec(content)) {
    if (match[0] === '') candidates.lastIndex++;
    // line number of the match: count the newlines since the previous one
    for (let nl = content.indexOf('\n', lineStart); nl !== -1 && nl < match.index; nl = content.indexOf('\n', lineStart)) {
      line++;
      lineStart = nl + 1;
    }
    if (line === last) continue;
    last = line;
    const lineEnd = content.indexOf('\n', lineStart);
    const entry = parseEntry(content.slice(lineStart, lineEnd === -1 ? content.length : lineEnd), line);
    if (entry) found.push(entry);
  }
  return found;
}

const BLANK_LINE = /\n[ \t\r\f\v]/g;

/** Start of the first line at or after the line starting at `from` (0, or just past a newline) that begins with a blank; -1 if none. */
function blankLineFrom(content: string, from: number): number {
  if (from === 0 && isBlank(content.charCodeAt(0))) return 0;
  BLANK_LINE.lastIndex = Math.max(0, from - 1);
  const match = BLANK_LINE.exec(content);
  return match ? match.index + 1 : -1;
}

/**
 * Calls `visit`, in file order, with each IPv4 address starting with `textPrefix` (e.g. "10." for 10.0.0.0/8) that a line
 * starts with (an address with no name counts too: harmless when reserving). With 65,000 entries this runs once per
 * event, cold: native indexOf jumps from one "\n10." to the next and a regex finds the rare lines that start with a
 * blank, so only candidate lines are scanned, in place, and nothing is allocated per line.
 */
export function forEachLeadingAddress(file: HostsFile, textPrefix: string, visit: (ip: number) => void): void {
  const content = contentOf(file);
  const needle = `\n${textPrefix}`;
  const nextPrefixed = (from: number) => {
    const at = content.indexOf(needle, from);
    return at === -1 ? -1 : at + 1;
  };
  let prefixed = content.startsWith(textPrefix) ? 0 : nextPrefixed(0);
  let blank = blankLineFrom(content, 0);
  let nul = content.indexOf('\0');
  while (prefixed !== -1 || blank !== -1) {
    const start = prefixed === -1 ? blank : blank === -1 ? prefixed : Math.min(prefixed, blank);
    const newline = content.indexOf('\n', start);
    const end = newline === -1 ? content.length : newline;
    if (nul !== -1 && nul < start) nul = content.indexOf('\0', start);
    if (nul === -1 || nul >= end) { // a line holding NUL is never interpreted
      const ip = scanLeadingIPv4(content, start, end, textPrefix);
      if (ip !== undefined) visit(ip);
    }
    if (newline === -1) break;
    if (prefixed === start) prefixed = nextPrefixed(end);
    if (blank === start) blank = blankLineFrom(content, end + 1);
  }
}

export function hostsLine(address: string, name: string): string {
  return `${address}\t${name}`;
}

/** Appends whole lines: the new text is the old text plus the new lines (no split or re-join of 100,000 lines). */
export function appendHostsLines(file: HostsFile, texts: readonly string[]): HostsFile {
  if (texts.length === 0) return file;
  const before = contentOf(file);
  return new LazyHostsFile(`${before}${before === '' || before.endsWith('\n') ? '' : '\n'}${texts.join('\n')}\n`);
}

export function removeHostsLines(file: HostsFile, indexes: ReadonlySet<number>): HostsFile {
  const list = removeLines(file, indexes);
  return list === file ? file : new LazyHostsFile(joinLines(list), list);
}
