// The .deb as an administrator uses it, in a throw-away copy of this machine: apt-get install, what is where, upgrade keeping a changed conffile, remove, purge; lintian; the host's dpkg untouched.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check, run } from '../harness/processes';
import { ensureRuntime } from '../harness/runtimes';
import { REPO } from '../harness/sandbox';
import { hostDpkgState, ThrowawayRoot } from '../harness/throwaway-root';

const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const NEXT = `${VERSION}+test1`;
const CONFFILES = ['/etc/xen/scripts/vif-nat-dns', '/etc/xen/scripts/regen-ethers', '/etc/xen/scripts/network-nat-dns', '/etc/xen/vif-nat-dns.conf', '/etc/dnsmasq.d/vif-nat-dns.conf'];
const HOSTS = '127.0.0.1\tlocalhost\n10.0.1.1\tweb\n';
const ETHERS = '00:16:3e:00:01:01 10.0.1.1\n';

let out: string;
let root: ThrowawayRoot;
let hostDpkg: string;
const debOf = (version: string) => join(out, `vif-nat-dns_${version}_all.deb`);
const apt = (...args: string[]) => root.run(['apt-get', '-y', '-o', 'Dpkg::Use-Pty=0', ...args]);
const dpkgQuery = async (format: string) => (await root.run(['dpkg-query', '-W', '-f', format, 'vif-nat-dns'])).stdout;

beforeAll(async () => {
  hostDpkg = hostDpkgState();
  out = mkdtempSync(join(tmpdir(), 'vnd-deb-test-'));
  for (const version of [VERSION, NEXT]) await check(process.execPath, [join(REPO, 'dist', 'package.cjs'), '--version', version, '--out', out]);
  root = await ThrowawayRoot.create();
  await root.write('/etc/hosts', HOSTS);
  await root.write('/etc/ethers', ETHERS);
  for (const version of [VERSION, NEXT]) await root.copyIn(debOf(version), `/tmp/vif-nat-dns_${version}_all.deb`);
}, 120_000);
afterAll(async () => {
  await root?.destroy();
  if (out) rmSync(out, { recursive: true, force: true });
});

// budget: ~20 s in all on 2 cores (each apt-get run ~2-4 s, lintian ~4 s); each step may take a minute on a loaded machine
describe('the Debian package', { timeout: 60_000 }, () => {
  it('lintian reports no errors', async () => {
    const result = await run('lintian', ['--fail-on', 'error', '--allow-root', debOf(VERSION)], { timeoutMs: 120_000 });
    expect(result.stdout).not.toMatch(/^E: /m);
    expect(result.code).toBe(0);
  });

  it('apt-get install ./vif-nat-dns_*.deb puts everything where install would, pinned to /usr/bin/node, and starts nothing', async () => {
    const result = await apt('install', '--no-install-recommends', `/tmp/vif-nat-dns_${VERSION}_all.deb`);
    expect(result.stderr).not.toMatch(/^E: /m);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/restart|reload|systemctl|Created symlink/i);
    expect(await dpkgQuery('${Status} ${Version}')).toBe(`install ok installed ${VERSION}`);
    const files = (await root.run(['dpkg', '-L', 'vif-nat-dns'])).stdout.split('\n');
    for (const path of [...CONFFILES, '/usr/sbin/vif-nat-dns-admin', '/usr/lib/vif-nat-dns/vif-nat-dns.cjs', '/usr/lib/vif-nat-dns/loader.cjs',
      '/usr/lib/vif-nat-dns/admin.cjs', '/lib/systemd/system/vif-nat-dns-network.service', '/lib/systemd/system/vif-nat-dns-pool.service', '/usr/share/man/man8/vif-nat-dns-admin.8.gz',
      '/usr/share/man/man8/vif-nat-dns.8.gz', '/usr/share/doc/vif-nat-dns/copyright', '/usr/share/doc/vif-nat-dns/changelog.gz', '/var/cache/vif-nat-dns',
      '/usr/share/vif-nat-dns/guest/vif-nat-dns-guest', '/usr/share/vif-nat-dns/guest/vif-nat-dns-guest@.service', '/usr/share/vif-nat-dns/guest/ifupdown-pre-up']) {
      expect(files).toContain(path);
    }
    expect((await dpkgQuery('${Conffiles}')).trim().split('\n').map((l) => l.trim().split(' ')[0]).sort()).toEqual([...CONFFILES].sort());
    for (const script of ['/etc/xen/scripts/vif-nat-dns', '/etc/xen/scripts/regen-ethers', '/usr/sbin/vif-nat-dns-admin']) {
      expect((await root.read(script)).split('\n')[0]).toBe('#!/usr/bin/node');
    }
    expect(await root.read('/etc/xen/scripts/vif-nat-dns')).toContain('"/usr/lib/vif-nat-dns/loader.cjs"');
    expect(await root.read('/etc/xen/scripts/vif-nat-dns')).toContain('"/var/cache/vif-nat-dns/vif-nat-dns.cache"');
    expect(await root.read('/etc/hosts')).toBe(HOSTS);
    expect(await root.read('/etc/ethers')).toBe(ETHERS);
    expect(await root.exists('/etc/systemd/system/multi-user.target.wants/vif-nat-dns-network.service')).toBe(false);
  });

  it('the installed scripts run: --help of the hook, regen-ethers and the admin CLI; man pages render', async () => {
    const hook = await root.run(['/etc/xen/scripts/vif-nat-dns', '--help']);
    expect(hook.stdout).toContain('Xen vif hotplug script');
    expect(hook.code).toBe(0);
    expect((await root.run(['vif-nat-dns-admin', '--help'])).stdout).toContain('Usage: vif-nat-dns-admin <command>');
    expect((await root.run(['/etc/xen/scripts/regen-ethers', '--help'])).stdout).toContain('regen-ethers');
    expect((await root.run(['/etc/xen/scripts/network-nat-dns', '--help'])).code).toBe(0);
    expect((await root.run(['/usr/share/vif-nat-dns/guest/vif-nat-dns-guest', '--decode-mac', '00:16:3e:01:01:03'])).stdout).toContain('ip=10.1.1.3');
    // the packaged admin leaves installing to dpkg, and says so
    const install = await root.run(['vif-nat-dns-admin', 'install']);
    expect(install.stderr).toMatch(/not a vif-nat-dns checkout[^\n]*apt-get install/);
    expect(install.code).toBe(2);
    const man = await root.run(['sh', '-c', 'zcat /usr/share/man/man8/vif-nat-dns-admin.8.gz | groff -man -Tutf8 -ww -z 2>&1']);
    expect(man.stdout).toBe('');
  });

  it('upgrading over itself and to a newer version keeps a changed conffile', async () => {
    const edited = `${await root.read('/etc/xen/vif-nat-dns.conf')}LOG_LEVEL=debug\n`;
    await root.write('/etc/xen/vif-nat-dns.conf', edited);
    const again = await apt('install', '--reinstall', `/tmp/vif-nat-dns_${VERSION}_all.deb`);
    expect(again.code).toBe(0);
    expect(await root.read('/etc/xen/vif-nat-dns.conf')).toBe(edited);
    const upgrade = await apt('install', `/tmp/vif-nat-dns_${NEXT}_all.deb`);
    expect(upgrade.code).toBe(0);
    expect(await dpkgQuery('${Version}')).toBe(NEXT);
    expect(await root.read('/etc/xen/vif-nat-dns.conf')).toBe(edited);
    expect((await root.run(['/etc/xen/scripts/vif-nat-dns', '--help'])).code).toBe(0);
  });

  it('remove takes the code and the code cache, keeps the conffiles; purge takes the rest; /etc/hosts and /etc/ethers stay', async () => {
    await root.write('/var/cache/vif-nat-dns/vif-nat-dns.cache', 'cache');
    const removed = await apt('remove', 'vif-nat-dns');
    expect(removed.code).toBe(0);
    expect(await dpkgQuery('${Status}')).toBe('deinstall ok config-files');
    for (const path of ['/usr/lib/vif-nat-dns', '/usr/sbin/vif-nat-dns-admin', '/var/cache/vif-nat-dns/vif-nat-dns.cache']) expect(await root.exists(path)).toBe(false);
    expect(await root.read('/etc/xen/vif-nat-dns.conf')).toContain('LOG_LEVEL=debug');
    const orphan = await root.run(['/etc/xen/scripts/vif-nat-dns', 'online']); // what a guest start meets now (README)
    expect(orphan.stderr).toBe('vif-nat-dns: /usr/lib/vif-nat-dns/loader.cjs is missing: reinstall vif-nat-dns, or select another vif script\n');
    expect(orphan.code).toBe(1);

    const purged = await apt('purge', 'vif-nat-dns');
    expect(purged.code).toBe(0);
    expect((await root.run(['dpkg-query', '-W', 'vif-nat-dns'])).code).not.toBe(0);
    for (const path of [...CONFFILES, '/var/cache/vif-nat-dns', '/usr/share/doc/vif-nat-dns']) expect(await root.exists(path)).toBe(false);
    expect(await root.read('/etc/hosts')).toBe(HOSTS);
    expect(await root.read('/etc/ethers')).toBe(ETHERS);
  });

});

describe('on a dom0 with Debian 12\'s own nodejs', { timeout: 120_000 }, () => {
  let debian: ThrowawayRoot | undefined;
  afterAll(async () => { await debian?.destroy(); });

  it('with the host\'s nodejs swapped for Debian\'s 18.20 (.debs from apt-get download), the package installs and its scripts run on it', async () => {
    const runtime = await ensureRuntime('debian12'); // the same .debs test/runtimes uses (cached)
    debian = await ThrowawayRoot.create();
    const debs = [...runtime.debs!, debOf(VERSION)];
    for (const deb of debs) await debian.copyIn(deb, `/tmp/${deb.split('/').pop()!}`);
    // the host's Node (another nodejs package) makes way for Debian's, as on an administrator's Debian 12 host; dpkg
    // rather than apt: node-acorn, node-undici... depend on more node-* packages that Node's builtins never load
    expect((await debian.run(['dpkg', '--force-depends', '--purge', 'nodejs'])).code).toBe(0);
    const result = await debian.run(['dpkg', '--force-depends', '-i', ...debs.map((d) => `/tmp/${d.split('/').pop()!}`)]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect((await debian.run(['dpkg', '-s', 'vif-nat-dns'])).stdout).toContain('Status: install ok installed');
    expect((await debian.run(['dpkg-query', '-W', '-f', '${Version}', 'nodejs'])).stdout).toMatch(/^18\.\d+\.\d+\+dfsg/);
    expect((await debian.run(['/usr/bin/node', '-p', 'process.version'])).stdout.trim()).toMatch(/^v18\.(19|[2-9]\d)\./);
    const hook = await debian.run(['/etc/xen/scripts/vif-nat-dns', '--help']);
    expect(hook.stdout).toContain('Xen vif hotplug script');
    expect(hook.code).toBe(0);
    expect((await debian.run(['vif-nat-dns-admin', 'mac2ip', '00:16:3e:01:01:03'])).stdout.trim()).toBe('10.1.1.3');
    expect((await debian.run(['/etc/xen/scripts/regen-ethers', '--help'])).code).toBe(0);
  });
});

describe('the host', () => {
  it('its dpkg database is unchanged', () => {
    expect(hostDpkgState()).toBe(hostDpkg);
  });
});
