import { describe, expect, it } from 'vitest';
import { adminScript, conffilesFile, controlFile, debContents, DEBIAN_NODE, md5sumsFile } from '../../packaging/contents';

const docs = { manPages: [['vif-nat-dns-admin.8', 'roff'], ['vif-nat-dns.8', 'roff']] as Array<[string, string]>, changelog: 'log', copyright: 'c' };
const entries = debContents(docs);
const text = (path: string) => {
  const source = entries.find((e) => e.path === path)!.source;
  return 'text' in source ? source.text : '';
};

describe('package contents', () => {
  it('every file under /etc is a conffile, and nothing else is', () => {
    for (const entry of entries) expect([entry.path, entry.conffile === true]).toEqual([entry.path, entry.path.startsWith('/etc/')]);
    expect(conffilesFile(entries).split('\n').filter(Boolean)).toEqual([
      '/etc/xen/scripts/vif-nat-dns', '/etc/xen/scripts/regen-ethers', '/etc/xen/scripts/network-nat-dns', '/etc/xen/vif-nat-dns.conf', '/etc/dnsmasq.d/vif-nat-dns.conf',
    ]);
  });

  it.each([
    ['/etc/xen/scripts/vif-nat-dns', ['"/usr/lib/vif-nat-dns/loader.cjs"', '"/usr/lib/vif-nat-dns/vif-nat-dns.cjs"', '"/var/cache/vif-nat-dns/vif-nat-dns.cache"']],
    ['/etc/xen/scripts/regen-ethers', ['process.argv[1] = "regen-ethers"', 'require("/usr/lib/vif-nat-dns/admin.cjs")']],
    ['/usr/sbin/vif-nat-dns-admin', ['process.argv[1] = "vif-nat-dns-admin"', 'require("/usr/lib/vif-nat-dns/admin.cjs")']],
  ])('%s runs on /usr/bin/node and names the installed paths', (path, needles) => {
    expect(text(path).split('\n')[0]).toBe(`#!${DEBIAN_NODE}`);
    for (const needle of needles) expect(text(path)).toContain(needle);
    expect(entries.find((e) => e.path === path)!.mode).toBe(0o755);
  });

  it('man pages go to their section, gzipped; bundles are libraries, not scripts', () => {
    expect(entries.filter((e) => e.gzip).map((e) => e.path)).toEqual([
      '/usr/share/man/man8/vif-nat-dns-admin.8.gz', '/usr/share/man/man8/vif-nat-dns.8.gz', '/usr/share/doc/vif-nat-dns/changelog.gz', '/usr/share/doc/vif-nat-dns/README.md.gz',
    ]);
    for (const entry of entries.filter((e) => e.path.startsWith('/usr/lib/'))) expect([entry.path, entry.mode, 'bundle' in entry.source && entry.source.bundle]).toEqual([entry.path, 0o644, true]);
  });

  it('adminScript keeps the name the CLI answers to', () => {
    expect(adminScript('regen-ethers')).toMatch(/^#!\/usr\/bin\/env node\n\/\/ regen-ethers: [^\n]*\nprocess\.argv\[1\] = "regen-ethers";\n/);
  });

  it('control names the dependencies the issue asks for and the sizes given', () => {
    const control = controlFile({ version: '1.2.3', maintainer: 'A <a@example.org>', installedSizeKiB: 42 });
    expect(control).toMatch(/^Package: vif-nat-dns\nVersion: 1\.2\.3\nArchitecture: all\nMaintainer: A <a@example\.org>\nInstalled-Size: 42\n/);
    expect(control).toContain('\nDepends: nodejs (>= 18.19), dnsmasq-base | dnsmasq, dnsmasq-utils, iproute2, iptables\n');
    expect(control.endsWith('\n')).toBe(true);
    for (const line of control.split('\n').filter((l) => l.startsWith(' '))) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('md5sums lines are relative to /', () => {
    expect(md5sumsFile([['/usr/sbin/x', 'abc'], ['/etc/y', 'def']])).toBe('abc  usr/sbin/x\ndef  etc/y\n');
  });
});
