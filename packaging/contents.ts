// What the Debian package holds and where (pure): the same scripts `vif-nat-dns-admin install` writes, laid out for /usr, pinned to /usr/bin/node.
import { join } from 'node:path';
import { hookScript, pinInterpreter } from '../src/cli/commands/install';

/** Debian's nodejs package puts the interpreter here; the installed scripts name it (hotplug scripts get the toolstack's PATH). */
export const DEBIAN_NODE = '/usr/bin/node';
export const LIB_DIR = '/usr/lib/vif-nat-dns';
export const CACHE_DIR = '/var/cache/vif-nat-dns';
export const SCRIPTS_DIR = '/etc/xen/scripts';
export const DOC_DIR = '/usr/share/doc/vif-nat-dns';
/** The guest side: files an administrator copies into guests (templates/guest/), not run in dom0. */
export const GUEST_DIR = '/usr/share/vif-nat-dns/guest';

/** A file's content: a file of the checkout (relative to it; a bundle loses its #! line: it is loaded, not run), or text made here. */
export type DebSource = { readonly file: string; readonly bundle?: boolean } | { readonly text: string };

export interface DebEntry {
  readonly path: string; // absolute path on the installed system
  readonly source: DebSource;
  readonly mode: number;
  readonly conffile?: boolean; // under /etc: dpkg keeps the administrator's changes (<file>.dpkg-dist beside it)
  readonly gzip?: boolean; // man pages and the changelog are stored gzip -9n
}

/** A script that runs the admin bundle under a name of its own (as hooks/regen-ethers does in the checkout). */
export function adminScript(name: string): string {
  return `#!/usr/bin/env node
// ${name}: the vif-nat-dns admin CLI${name === 'regen-ethers' ? ' under its own name (rebuilds /etc/ethers from the running vifs)' : ''}; installed by the vif-nat-dns package.
process.argv[1] = ${JSON.stringify(name)};
require(${JSON.stringify(join(LIB_DIR, 'admin.cjs'))});
`;
}

const GUEST_FILES: ReadonlyArray<[name: string, mode: number]> = [
  ['vif-nat-dns-guest', 0o755], ['vif-nat-dns-guest.conf', 0o644], ['vif-nat-dns-guest@.service', 0o644], ['ifupdown-pre-up', 0o755],
];

/** A generated script, pinned to Debian's node. */
const script = (text: string): DebSource => ({ text: pinInterpreter(Buffer.from(text), DEBIAN_NODE).toString() });

export interface GeneratedDocs {
  readonly manPages: ReadonlyArray<[name: string, roff: string]>; // e.g. ['vif-nat-dns-admin.8', ...]
  readonly changelog: string;
  readonly copyright: string;
}

/** Every file of the package. Directories are implied by the paths (plus the cache directory, see debDirectories). */
export function debContents(docs: GeneratedDocs): DebEntry[] {
  const layout = { destdir: '', prefix: '/usr', scriptsDir: SCRIPTS_DIR, cacheDir: CACHE_DIR };
  return [
    { path: join(LIB_DIR, 'vif-nat-dns.cjs'), source: { file: 'dist/vif-nat-dns.cjs', bundle: true }, mode: 0o644 },
    { path: join(LIB_DIR, 'loader.cjs'), source: { file: 'dist/loader.cjs', bundle: true }, mode: 0o644 },
    { path: join(LIB_DIR, 'admin.cjs'), source: { file: 'dist/admin.cjs', bundle: true }, mode: 0o644 },
    { path: join(SCRIPTS_DIR, 'vif-nat-dns'), source: script(hookScript(layout, 'the vif-nat-dns package')), mode: 0o755, conffile: true },
    { path: join(SCRIPTS_DIR, 'regen-ethers'), source: script(adminScript('regen-ethers')), mode: 0o755, conffile: true },
    { path: join(SCRIPTS_DIR, 'network-nat-dns'), source: { file: 'hooks/network-nat-dns' }, mode: 0o755, conffile: true },
    { path: '/usr/sbin/vif-nat-dns-admin', source: script(adminScript('vif-nat-dns-admin')), mode: 0o755 },
    { path: '/etc/xen/vif-nat-dns.conf', source: { file: 'templates/vif-nat-dns.conf' }, mode: 0o644, conffile: true },
    { path: '/etc/dnsmasq.d/vif-nat-dns.conf', source: { file: 'templates/dnsmasq.conf' }, mode: 0o644, conffile: true },
    { path: '/lib/systemd/system/vif-nat-dns-network.service', source: { file: 'templates/vif-nat-dns-network.service' }, mode: 0o644 },
    { path: '/lib/systemd/system/vif-nat-dns-pool.service', source: { file: 'templates/vif-nat-dns-pool.service' }, mode: 0o644 },
    ...docs.manPages.map(([name, roff]): DebEntry => ({ path: `/usr/share/man/man${name.slice(name.lastIndexOf('.') + 1)}/${name}.gz`, source: { text: roff }, mode: 0o644, gzip: true })),
    { path: join(DOC_DIR, 'copyright'), source: { text: docs.copyright }, mode: 0o644 },
    { path: join(DOC_DIR, 'changelog.gz'), source: { text: docs.changelog }, mode: 0o644, gzip: true },
    { path: join(DOC_DIR, 'README.md.gz'), source: { file: 'README.md' }, mode: 0o644, gzip: true },
    { path: join(DOC_DIR, 'examples', 'xl-vif.cfg'), source: { file: 'templates/xl-vif.cfg' }, mode: 0o644 },
    { path: join(DOC_DIR, 'examples', 'xend-config.sxp'), source: { file: 'templates/xend-config.sxp' }, mode: 0o644 },
    ...GUEST_FILES.map(([name, mode]): DebEntry => ({ path: join(GUEST_DIR, name), source: { file: `templates/guest/${name}` }, mode })),
  ];
}

/** Directories the package owns although it ships no file in them: the hook's code cache (written at run time). */
export const EXTRA_DIRECTORIES: readonly string[] = [CACHE_DIR];

export interface ControlFields {
  readonly version: string;
  readonly maintainer: string;
  readonly installedSizeKiB: number;
}

export const DEPENDS = 'nodejs (>= 18.19), dnsmasq-base | dnsmasq, dnsmasq-utils, iproute2, iptables';

/** DEBIAN/control. */
export function controlFile(fields: ControlFields): string {
  return `Package: vif-nat-dns
Version: ${fields.version}
Architecture: all
Maintainer: ${fields.maintainer}
Installed-Size: ${fields.installedSizeKiB}
Depends: ${DEPENDS}
Suggests: dnsmasq
Enhances: xen-utils-common
Section: admin
Priority: optional
Description: Xen vif hotplug script: stable addresses, DNS names, DHCP and NAT
 vif-nat-dns is a vif hotplug script for Xen's dom0 (xl/libxl, and xend). When a
 guest's interface comes up it gives the guest a stable 10.x address derived
 from its name, names it in /etc/hosts, binds its MAC to that address in
 /etc/ethers so dnsmasq serves it over DHCP and DNS, and routes the guest to the
 outside world through NAT. Lines of /etc/hosts and /etc/ethers it does not own
 are kept byte for byte.
 .
 Select it with script=vif-nat-dns in a guest's vif line or for every guest in
 /etc/xen/xl.conf; vif-nat-dns-admin lists, checks and repairs the bindings.
`;
}

/** DEBIAN/conffiles. */
export function conffilesFile(entries: readonly DebEntry[]): string {
  return entries.filter((e) => e.conffile).map((e) => `${e.path}\n`).join('');
}

/** DEBIAN/md5sums: one "md5  relative/path" line per file, as dpkg writes it. */
export function md5sumsFile(sums: ReadonlyArray<[path: string, md5: string]>): string {
  return sums.map(([path, md5]) => `${md5}  ${path.replace(/^\//, '')}\n`).join('');
}
