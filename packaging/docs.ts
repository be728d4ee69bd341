// The package's documents made from what the programs already say (pure): man pages from --help, the changelog, the copyright file.
import { HOOK_HELP } from '../src/hook/help';
import { usage, type commands } from '../src/cli/main';

type Command = ReturnType<typeof commands>[number];

/** Text shown verbatim by man: backslashes and minus signs escaped, no line taken for a roff request. */
export function roffVerbatim(text: string): string {
  const lines = text.replace(/\n+$/, '').split('\n').map((line) => line.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/, '\\&$1'));
  return `.nf\n${lines.join('\n')}\n.fi\n`;
}

export interface ManMeta {
  readonly version: string;
  readonly date: string; // YYYY-MM-DD
}

function header(name: string, section: number, summary: string, meta: ManMeta): string {
  return `.TH ${name.toUpperCase()} ${section} "${meta.date}" "vif-nat-dns ${meta.version}" "System Administration"
.SH NAME
${name} \\- ${summary.replace(/-/g, '\\-')}
`;
}

const FILES = `.SH FILES
.TP
.I /etc/xen/vif-nat-dns.conf
configuration (KEY=VALUE, every key shown with its default)
.TP
.I /etc/hosts\\fR, \\fI/etc/ethers
the names and MAC bindings dnsmasq serves; lines vif-nat-dns does not own are kept byte for byte
.TP
.I /etc/dnsmasq.d/vif-nat-dns.conf
dnsmasq's configuration for the managed network
.TP
.I /usr/share/doc/vif-nat-dns/README.md.gz
the full documentation
`;

/** vif-nat-dns-admin(8): the command list and every command's --help. */
export function adminManPage(all: readonly Command[], meta: ManMeta): string {
  return `${header('vif-nat-dns-admin', 8, 'manage the addresses vif-nat-dns hands out to Xen guests', meta)}.SH SYNOPSIS
.B vif-nat-dns-admin
.I command
.RI [ options ]
.SH DESCRIPTION
${roffVerbatim(usage(all))}.SH COMMANDS
${all.map((c) => `.SS ${c.name}\n${c.summary.replace(/-/g, '\\-')}\n.PP\n${roffVerbatim(`vif-nat-dns-admin ${c.usage}`)}`).join('')}${FILES}.SH SEE ALSO
.BR vif-nat-dns (8),
.BR dnsmasq (8),
.BR xl (1)
`;
}

/** vif-nat-dns(8): the hotplug script's --help, and the two scripts beside it in /etc/xen/scripts. */
export function hookManPage(networkScriptHelp: string, meta: ManMeta): string {
  return `${header('vif-nat-dns', 8, 'Xen vif hotplug script: stable addresses, DNS names, DHCP and routed NAT', meta)}.SH SYNOPSIS
.B /etc/xen/scripts/vif-nat-dns
.BR online | offline
.RB [ type_if=vif ]
.br
.B /etc/xen/scripts/regen-ethers
.RB [ \\-\\-dry\\-run ]
.br
.B /etc/xen/scripts/network-nat-dns
.BR start | stop | status
.SH DESCRIPTION
${roffVerbatim(HOOK_HELP)}.SS regen-ethers
Rebuilds /etc/ethers from the running vifs: the same as
.BR "vif-nat-dns-admin regen-ethers" .
.SS network-nat-dns
${roffVerbatim(networkScriptHelp)}${FILES}.SH SEE ALSO
.BR vif-nat-dns-admin (8),
.BR dnsmasq (8),
.BR xl.cfg (5),
.BR xl (1)
`;
}

export interface ChangelogEntry {
  readonly version: string;
  readonly changes: readonly string[];
  readonly maintainer: string;
  readonly date: string; // RFC 2822, as `date -R` prints it
}

/** One entry in Debian's changelog format. */
export function changelogEntry(entry: ChangelogEntry): string {
  const items = entry.changes.map((change) => `  * ${wrap(change, 72).join('\n    ')}`).join('\n');
  return `vif-nat-dns (${entry.version}) unstable; urgency=medium\n\n${items}\n\n -- ${entry.maintainer}  ${entry.date}\n`;
}

/** The version of the newest entry of a Debian changelog. */
export function changelogVersion(changelog: string): string | undefined {
  return /^vif-nat-dns \(([^)\s]+)\)/.exec(changelog)?.[1];
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) { lines.push(line); line = word; } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

export interface BundledPackage {
  readonly name: string;
  readonly version: string;
  readonly license: string; // npm's SPDX name
  readonly copyright: string; // the "Copyright (c) ..." line(s) of its licence file, or its author
  readonly licenseText?: string; // its licence file, for a licence this module has no text for
}

/** The copyright notices of a licence file; "Copyright (c) 2011:" takes the holders on the lines after it. */
export function copyrightNotices(licenseText: string): string[] {
  const lines = licenseText.split('\n').map((l) => l.trim());
  const notices: string[] = [];
  lines.forEach((line, i) => {
    if (!/^copyright\s*(\(c\)|©|\d)/i.test(line)) return;
    if (!line.endsWith(':')) { notices.push(line); return; }
    const end = lines.indexOf('', i + 1);
    notices.push(`${line} ${lines.slice(i + 1, end === -1 ? undefined : end).join(', ')}`);
  });
  return notices;
}

/**
 * Directories (relative to where esbuild ran) of the npm packages it put into a bundle: it marks each module with a
 * `// <path>/node_modules/<name>/<file>` comment; a package nested in another's node_modules keeps its own directory.
 */
export function bundledPackageDirs(bundle: string): string[] {
  const dirs = new Set<string>();
  for (const match of bundle.matchAll(/^\/\/ (\S*node_modules\/(?:@[^/\s]+\/)?[^/\s@][^/\s]*)\/\S+$/gm)) dirs.add(match[1]!);
  return [...dirs].sort();
}

const MIT = `Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all
 copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 SOFTWARE.`;

const ISC = `Permission to use, copy, modify, and/or distribute this software for any
 purpose with or without fee is hereby granted, provided that the above
 copyright notice and this permission notice appear in all copies.
 .
 THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.`;

/** npm's licence names as Debian's copyright format spells them, with their text (Debian ships Apache-2.0's). */
const KNOWN_LICENSES: Record<string, [debianName: string, text: string]> = {
  MIT: ['Expat', MIT],
  ISC: ['ISC', ISC],
  'Apache-2.0': ['Apache-2.0', 'On Debian systems, the complete text of the Apache License, Version 2.0 can be found in\n /usr/share/common-licenses/Apache-2.0.'],
};

/** A licence file as a copyright-format text block: each line indented, empty lines as " .". */
const licenseBlock = (text: string) => text.trim().split('\n').map((line) => (line.trim() === '' ? '.' : line.trimEnd())).join('\n ');

/** /usr/share/doc/vif-nat-dns/copyright in Debian's machine-readable format: ours, then the bundled packages'. */
export function copyrightFile(own: { readonly license: string; readonly copyright: string }, bundled: readonly BundledPackage[]): string {
  const texts = new Map<string, string>();
  const all: BundledPackage[] = [{ name: 'vif-nat-dns', version: '', ...own }, ...bundled];
  for (const p of all) {
    const text = KNOWN_LICENSES[p.license]?.[1] ?? (p.licenseText ? licenseBlock(p.licenseText) : undefined);
    if (text === undefined) throw new Error(`no licence text for ${p.license} (${p.name}): add it to packaging/docs.ts`);
    if (!texts.has(p.license)) texts.set(p.license, text);
  }
  const name = (license: string) => KNOWN_LICENSES[license]?.[0] ?? license;
  const copyrights = [...new Set([own.copyright, ...bundled.map((p) => p.copyright)].flatMap((c) => c.split('\n')))];
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: vif-nat-dns\n',
    `Files: *\nCopyright: ${own.copyright}\nLicense: ${name(own.license)}\n`,
    `Files: usr/lib/vif-nat-dns/*.cjs\nCopyright: ${copyrights.join('\n ')}\nLicense: ${[...texts.keys()].map(name).join(' and ')}\n`
      + `Comment: the bundles hold vif-nat-dns and these npm packages:\n${bundled.map((p) => ` ${p.name} ${p.version} (${name(p.license)})`).join('\n')}\n`,
    ...[...texts].map(([license, text]) => `License: ${name(license)}\n ${text}\n`),
  ].join('\n');
}
