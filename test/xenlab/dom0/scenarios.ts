// The lab's scenarios, run in dom0 with the real xl: each returns what it observed, as data; xenlab.test.ts asserts.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { check, run } from '../../harness/processes';
import { createGuest, destroyGuest, nicView } from './guests';
import { boots, consoleLog, domid, ethersLines, fileText, hookLines, hookMs, hostsLine, ping, routeTo, runningNames, sleep, waitForBoot, writeGuestConfig, xl, xsRead } from './xl';

const SCRIPT = 'script=vif-nat-dns';
/** The files of the package the scenarios use (xl runs the hook; dom0-init.sh runs network-nat-dns, dnsmasq reads its drop-in). */
const INSTALLED_FILES = ['/etc/xen/scripts/vif-nat-dns', '/etc/xen/scripts/network-nat-dns', '/etc/xen/scripts/regen-ethers',
  '/usr/lib/vif-nat-dns/vif-nat-dns.cjs', '/usr/lib/vif-nat-dns/loader.cjs', '/usr/sbin/vif-nat-dns-admin', '/etc/xen/vif-nat-dns.conf', '/etc/dnsmasq.d/vif-nat-dns.conf'];

/** dom0's state a failed hook must leave alone. */
async function dom0State() {
  return {
    hosts: fileText('/etc/hosts'), ethers: fileText('/etc/ethers'),
    routes: (await check('ip', ['-4', 'route', 'show'])).stdout, addresses: (await check('ip', ['-4', '-o', 'addr', 'show'])).stdout,
  };
}

async function waitUntil(test: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!(await test())) { if (Date.now() > until) return false; await sleep(500); }
  return true;
}

/** dnsmasq's complaint when a static address is still leased to another MAC (what the hook's dhcp_release prevents). */
function leasedElsewhere(ip: string): number {
  return fileText('/var/log/messages').split('\n').filter((l) => l.includes(`not using configured address ${ip} `)).length;
}

export const scenarios = {
  /** A guest with a random MAC: lease, DNS through its router, NAT egress, hotplug-status, the hook's line. */
  async 'first-boot'() {
    return createGuest({ name: 'lab-a', vifs: [SCRIPT] });
  },

  /** destroy: ethers line and route go, hosts line stays; create again (xl makes up a new MAC): same address at once. */
  async 'destroy-recreate'() {
    const before = await nicView((await domid('lab-a'))!, 0, boots('lab-a').at(-1));
    const destroyed = await destroyGuest('lab-a');
    const afterDestroy = { ethers: ethersLines(), route: before.lease ? await routeTo(before.lease.ip) : '', hostsLine: before.lease ? hostsLine(before.lease.ip) : '' };
    const again = await createGuest({ name: 'lab-a', vifs: [SCRIPT] });
    return { before, destroyed, afterDestroy, again, refusedLeases: before.lease ? leasedElsewhere(before.lease.ip) : -1 };
  },

  /** A second domain whose name sanitises onto the running lab-a: xl create fails with the hook's message, nothing changes. */
  async 'hook-failure'() {
    const before = await dom0State();
    const created = await createGuest({ name: 'Lab_A', vifs: [SCRIPT] }, 20_000);
    await sleep(2000); // xl has destroyed the domain (offline ran) before it returned; let dnsmasq's reload settle
    return { created, unchanged: JSON.stringify(await dom0State()) === JSON.stringify(before), before, after: await dom0State(), running: await runningNames() };
  },

  /** Two NICs through vif.default.script in xl.conf; a third attached to the running guest, then detached. */
  async 'two-nics-attach-detach'() {
    writeFileSync('/etc/xen/xl.conf', `${fileText('/etc/xen/xl.conf')}\nvif.default.script="vif-nat-dns"\n`);
    const created = await createGuest({ name: 'lab-b', vifs: ['', ''] });
    const id = created.domid!;
    const index = boots('lab-b').length - 1;
    const attach = await xl(['network-attach', 'lab-b']);
    const attachedBoot = await waitForBoot('lab-b', index, (b) => Boolean(b.nics.eth2?.lease), 90_000);
    const attached = await nicView(id, 2, attachedBoot);
    const detach = await xl(['network-detach', 'lab-b', '2']);
    const goneBoot = await waitForBoot('lab-b', index, (b) => Boolean(b.nics.eth2?.gone), 60_000);
    const ip = attached.lease?.ip ?? '';
    return {
      created, attach: { exit: attach.code, output: attach.output, hookLines: hookLines(attach.output) }, attached,
      detach: { exit: detach.code, output: detach.output, hookLines: hookLines(detach.output) },
      afterDetach: { guestSawGone: Boolean(goneBoot?.nics.eth2?.gone), ethersHasMac: ethersLines().some((l) => l.startsWith(attached.mac)), route: ip ? await routeTo(ip) : '', hostsLine: ip ? hostsLine(ip) : '' },
    };
  },

  /** xl save, xl restore: a new domid, the same name and MAC, and the guest still reachable at its address. */
  async 'save-restore'() {
    const beforeDomid = (await domid('lab-a'))!;
    const before = await nicView(beforeDomid, 0, boots('lab-a').at(-1));
    const bootsBefore = boots('lab-a').length;
    const file = '/var/lib/xen/lab-a.save';
    const save = await xl(['save', 'lab-a', file]);
    const restore = await xl(['restore', file]);
    const id = await domid('lab-a');
    const after = id === undefined ? undefined : await nicView(id, 0, undefined);
    const ip = before.lease?.ip ?? '';
    const reachable = ip !== '' && (await waitUntil(() => ping(ip), 30_000));
    return {
      before, beforeDomid, save: { exit: save.code, output: save.output, hookLines: hookLines(save.output) },
      restore: { exit: restore.code, output: restore.output, hookLines: hookLines(restore.output) }, domid: id, after,
      route: ip ? await routeTo(ip) : '', reachable, newBoots: boots('lab-a').length - bootsBefore,
    };
  },

  /** A guest that powers itself off: xl's background process runs offline (its output in /var/log/xen/xl-<name>.log). */
  async 'self-shutdown'() {
    const created = await createGuest({ name: 'lab-c', vifs: [SCRIPT], then: 'poweroff' });
    const gone = await waitUntil(async () => (await domid('lab-c')) === undefined, 60_000);
    const ip = created.nics[0]?.lease?.ip ?? '';
    await sleep(1000);
    const xlLog = fileText('/var/log/xen/xl-lab-c.log');
    const mac = created.nics[0]?.mac ?? '';
    return {
      created, gone, poweredOff: Boolean(created.boot?.poweroff || boots('lab-c').at(-1)?.poweroff), xlLog, xlLogHookLines: hookLines(xlLog),
      after: { ethersHasMac: mac !== '' && ethersLines().some((l) => l.startsWith(mac)), route: ip ? await routeTo(ip) : '', hostsLine: ip ? hostsLine(ip) : '' },
    };
  },

  /** A guest that reboots (asked with xl reboot; on_reboot="restart"): new domid, same MACs, same addresses. */
  async 'self-reboot'() {
    const beforeDomid = (await domid('lab-b'))!;
    const index = boots('lab-b').length;
    const before = await Promise.all([0, 1].map((devid) => nicView(beforeDomid, devid, boots('lab-b').at(-1))));
    const logBefore = fileText('/var/log/xen/xl-lab-b.log').length;
    const started = Date.now();
    const reboot = await xl(['reboot', 'lab-b']);
    const boot = await waitForBoot('lab-b', index, (b) => Boolean(b.nics.eth0?.egress && b.nics.eth1?.lease), 150_000);
    const ms = Date.now() - started;
    const id = await domid('lab-b');
    const after = id === undefined ? [] : await Promise.all([0, 1].map((devid) => nicView(id, devid, boot)));
    const xlLog = fileText('/var/log/xen/xl-lab-b.log').slice(logBefore);
    return { reboot: { exit: reboot.code, output: reboot.output }, beforeDomid, domid: id, before, after, ms, xlLogHookLines: hookLines(xlLog) };
  },

  /** A guest with no DHCP client: the guest script configures it from what the hook published in xenstore; the guest
   *  cannot overwrite what was published; dnsmasq never heard a DHCP request from it. */
  async 'no-dhcp'() {
    const created = await createGuest({ name: 'lab-s', vifs: [SCRIPT], net: 'xenstore' });
    const published: Record<string, string | undefined> = {};
    if (created.domid !== undefined) {
      for (const key of ['ip', 'prefix', 'gateway', 'dns', 'hostname', 'domain', 'mac']) published[key] = await xsRead(`/local/domain/${created.domid}/vif-nat-dns/0/${key}`);
    }
    const mac = (created.nics[0]?.mac ?? '').toLowerCase();
    const dhcpLog = fileText('/var/log/messages').split('\n').filter((l) => /\bDHCP[A-Z]+\(/.test(l));
    const destroyed = await destroyGuest('lab-s');
    return {
      created, published, destroyed,
      packageScriptMd5: createHash('md5').update(readFileSync('/usr/share/vif-nat-dns/guest/vif-nat-dns-guest')).digest('hex'),
      dhcp: { linesForMac: dhcpLog.filter((l) => mac !== '' && l.toLowerCase().includes(mac)), linesInAll: dhcpLog.length, leased: mac !== '' && fileText('/var/lib/misc/dnsmasq.leases').toLowerCase().includes(mac) },
    };
  },

  /** An HVM guest with an emulated NIC (model e1000; xl's default type=ioemu): libxl runs the hook for the PV backend
   *  (online type_if=vif) and for QEMU's tap vif<D>.<N>-emu (add type_if=tap); destroy runs offline and remove. The
   *  guest itself is not waited for: its kernel reaches init ~110 s after xl create under two levels of emulation. */
  async 'hvm-tap'() {
    const name = 'lab-h';
    const started = Date.now();
    const create = await xl(['create', writeGuestConfig({ name, vifs: [`model=e1000,${SCRIPT}`], hvm: true })], 120_000);
    const createMs = Date.now() - started;
    const id = await domid(name);
    const be = `/local/domain/0/backend/vif/${id}/0`;
    const mac = id === undefined ? '' : (await xsRead(`${be}/mac`)) ?? '';
    const ip = /: online vif\d+\.0: \S+ (\S+) /.exec(hookLines(create.output).join('\n'))?.[1] ?? '';
    const links = async () => (await check('ip', ['-o', 'link', 'show'])).stdout.split('\n').map((l) => l.split(/:\s+/)[1]?.split('@')[0] ?? '').filter((l) => l.startsWith('vif'));
    const up = {
      hotplugStatus: id === undefined ? '' : (await xsRead(`${be}/hotplug-status`)) ?? '', links: await links(),
      ethersLine: ethersLines().find((l) => mac !== '' && l.toLowerCase().startsWith(mac.toLowerCase())) ?? '', routes: ip ? await routeTo(ip) : '',
    };
    const destroyed = await destroyGuest(name);
    const after = { links: await links(), ethersHasMac: mac !== '' && ethersLines().some((l) => l.toLowerCase().startsWith(mac.toLowerCase())), routes: ip ? await routeTo(ip) : '', hostsLine: ip ? hostsLine(ip) : '' };
    return { exit: create.code, output: create.output, hookLines: hookLines(create.output), createMs, domid: id, mac, ip, up, destroyed, after };
  },

  /** Guests created at once (vndlab_parallel, default 10): distinct addresses, all leased, each hook's own duration. */
  async parallel() {
    for (const name of await runningNames()) await destroyGuest(name);
    const names = Array.from({ length: Number(process.env.vndlab_parallel ?? 10) }, (_, i) => `lab-p${String(i + 1).padStart(2, '0')}`);
    const started = Date.now();
    // 20 guests booting at once on two emulated CPUs: the last lease came 289 s after the creates (one run)
    const created = await Promise.all(names.map((name) => createGuest({ name, vifs: [SCRIPT] }, 600_000)));
    const wallMs = Date.now() - started;
    const guests = created.map((c) => ({ name: c.name, exit: c.exit, ip: c.nics[0]?.lease?.ip ?? '', mac: c.nics[0]?.mac ?? '', hookMs: c.hookMs[0], hookLines: c.hookLines, reportMs: c.reportMs, output: c.exit === 0 ? '' : c.output }));
    await Promise.all(names.map((name) => destroyGuest(name)));
    return { wallMs, guests };
  },

  /** What the scenarios ran: the Debian package as apt installed it (dom0-init.sh), owning every script xl ran; run
   *  after the others, so its hook's code cache shows the package's loader handled their events. */
  async 'installed-package'() {
    // one dpkg-query for all (each reads dpkg's whole database: seconds under TCG); a line per path, "<package>: <path>"
    const owners = (await run('dpkg-query', ['-S', ...INSTALLED_FILES])).stdout.split('\n');
    return {
      status: (await run('dpkg-query', ['-W', '-f', '${Status} ${Version}', 'vif-nat-dns'])).stdout,
      owners: Object.fromEntries(INSTALLED_FILES.map((path) => [path, owners.find((l) => l.endsWith(`: ${path}`)) ?? ''])),
      hook: fileText('/etc/xen/scripts/vif-nat-dns'),
      codeCache: existsSync('/var/cache/vif-nat-dns/vif-nat-dns.cache'),
      checkoutInstall: ['/usr/local/lib/vif-nat-dns', '/usr/local/sbin/vif-nat-dns-admin'].filter((p) => existsSync(p)),
      aptLog: fileText('/run/vndlab-install.log'),
    };
  },

  /** For npm run demo:xen: a few guests, as a newcomer would start them, and what each saw. */
  async demo() {
    writeFileSync('/etc/xen/xl.conf', `${fileText('/etc/xen/xl.conf')}
vif.default.script="vif-nat-dns"
`);
    const specs = [{ name: 'web', vifs: ['', ''] }, { name: 'db', vifs: [''] }, { name: 'Build_Runner-7', vifs: [''], lookup: 'build-runner-7.xen.internal' }];
    const created = await Promise.all(specs.map((spec) => createGuest(spec)));
    const destroyed = await Promise.all(specs.map((spec) => destroyGuest(spec.name)));
    return { created, destroyed, hosts: fileText('/etc/hosts'), ethers: fileText('/etc/ethers') };
  },
};

export type ScenarioName = keyof typeof scenarios;
export type ScenarioData<N extends ScenarioName> = Awaited<ReturnType<(typeof scenarios)[N]>>;
