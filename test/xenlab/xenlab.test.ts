// The real-Xen lab: Debian's Xen in QEMU, the real xl driving the installed hook; every scenario's observations asserted.
// Budget: one boot for all scenarios, ~3-5 min on 2 cores (more on a busy machine). Runs in npm run test:all (CI);
// npm test sets VND_XENLAB=0, which skips it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { ScenarioData, ScenarioName } from './dom0/scenarios';
import { hostDpkgState } from '../harness/throwaway-root';
import { demoTable } from './demo-table';
import { missingLabRequirements, runLab, type LabRun } from './lab';

// Guests created at once (20, as the issue asks; VND_XENLAB_PARALLEL=0 leaves them out of a quick local run): with dom0
// given the scheduler weight an xl host should give it (dom0-init.sh, README), no hook near libxl's 40 s.
const PARALLEL = Number(process.env.VND_XENLAB_PARALLEL ?? 20);
const SCENARIOS: ScenarioName[] = ['first-boot', 'destroy-recreate', 'hook-failure', 'two-nics-attach-detach', 'save-restore', 'self-shutdown', 'self-reboot', 'no-dhcp', 'hvm-tap', 'demo',
  'installed-package', ...(PARALLEL > 0 ? (['parallel'] as const) : [])];
const LAB_TIMEOUT_MS = Number(process.env.VND_XENLAB_TIMEOUT_MS ?? 1_200_000);
const UPLINK_IP = '192.0.2.1'; // dom0's address on the lan (dom0-init.sh)
const LIBXL_HOTPLUG_TIMEOUT_MS = 40_000;
const skip = process.env.VND_XENLAB === '0';

let lab: LabRun;
let hostDpkg: { before: string; after: string };

function data<N extends ScenarioName>(name: N): ScenarioData<N> {
  const result = lab.results?.scenarios.find((s) => s.name === name);
  expect(result, `scenario ${name} did not run (see the console above)`).toBeDefined();
  expect(result!.error, `scenario ${name} threw`).toBeUndefined();
  return result!.data as ScenarioData<N>;
}

/** On failure: the guests' consoles, xl's logs and dom0's syslog (dnsmasq, the hook), and the end of the serial console. */
function printEvidence(): void {
  const parts = Object.entries(lab.logs).filter(([file]) => /console\/guest-|xl-|messages|\.cfg$/.test(file))
    .map(([file, text]) => `----- ${file} (last 60 lines)\n${text.split('\n').slice(-60).join('\n')}`);
  const errors = (lab.results?.scenarios ?? []).filter((s) => s.error).map((s) => `----- scenario ${s.name} threw\n${s.error}`);
  console.log([...errors, ...parts, `----- serial console (last 80 lines)\n${lab.serial.split('\n').slice(-80).join('\n')}`].join('\n'));
}

/** "vif-nat-dns[pid]: online vif3.0: lab-a 10.0.1.1 (00:16:3e:..), dom0 side 10.0.1.129; ..." */
function onlineLine(line: string | undefined) {
  const match = /: online (vif\d+\.\d+): (\S+) (\S+) \((\S+)\), dom0 side (\S+);/.exec(line ?? '');
  expect(match, `an online event line, got ${JSON.stringify(line)}`).not.toBeNull();
  return { device: match![1]!, hostname: match![2]!, ip: match![3]!, mac: match![4]!, dom0Ip: match![5]! };
}

describe.skipIf(skip)('real Xen (Debian Xen 4.17 in QEMU, the real xl)', () => {
  beforeAll(async () => {
    const problems = missingLabRequirements();
    if (problems.length > 0) throw new Error(`the lab cannot run (VND_XENLAB=0 skips it):\n${problems.join('\n')}`);
    const before = hostDpkgState();
    lab = await runLab({ scenarios: SCENARIOS, timeoutMs: LAB_TIMEOUT_MS, parallelGuests: PARALLEL, onProgress: (e) => console.log(`[xenlab ${(e.atMs / 1000).toFixed(1)} s] ${e.text}`) });
    hostDpkg = { before, after: hostDpkgState() };
    if (process.env.VND_XENLAB_KEEP) {
      mkdirSync(process.env.VND_XENLAB_KEEP, { recursive: true });
      writeFileSync(join(process.env.VND_XENLAB_KEEP, 'run.json'), JSON.stringify(lab, null, 1));
    }
    const figures = (lab.results?.scenarios ?? []).map((s) => `${s.name} ${(s.ms / 1000).toFixed(1)} s${s.error ? ' (threw)' : ''}`);
    console.log(`[xenlab] images ${(lab.imagesMs / 1000).toFixed(1)} s; dom0 ready for scenarios at ${lab.results?.dom0UptimeAtStartS ?? '?'} s of its uptime; ${figures.join('; ')}`);
  }, LAB_TIMEOUT_MS + 60_000);

  it('boots, runs every scenario and powers off by itself', () => {
    onTestFailed(printEvidence);
    expect(lab.timedOut).toBe(false);
    expect(lab.results?.finished).toBe(true);
    expect(lab.results?.scenarios.map((s) => s.name)).toEqual(SCENARIOS);
    expect(lab.progress.map((p) => p.text)).toContain('powered off');
  });

  it('a guest with a random MAC: DHCP lease from the hook\'s address, its name by DNS via the router, NAT egress, hotplug-status', () => {
    onTestFailed(printEvidence);
    const boot = data('first-boot');
    expect(boot.exit).toBe(0);
    expect(boot.hookLines).toHaveLength(1);
    const event = onlineLine(boot.hookLines[0]);
    const nic = boot.nics[0]!;
    expect(event).toMatchObject({ device: `vif${boot.domid}.0`, hostname: 'lab-a', mac: nic.mac });
    expect(nic.hotplugStatus).toBe('connected');
    expect(nic.lease).toMatchObject({ ip: event.ip, router: event.dom0Ip, dns: event.dom0Ip, hostname: 'lab-a' });
    expect(nic.dnsAnswer).toBe(event.ip);
    expect(nic.egressSeen).toBe(UPLINK_IP);
    expect(nic.ethersLine.split(/\s+/)).toEqual([nic.mac, event.ip]);
    expect(nic.hostsLine.split(/\s+/)).toEqual([event.ip, 'lab-a']);
    expect(nic.route).toContain(`dev vif${boot.domid}.0`);
  });

  it('destroy: the ethers line and route go, the hosts line stays; created again with a new MAC, the same address at once', () => {
    onTestFailed(printEvidence);
    const d = data('destroy-recreate');
    expect(d.destroyed.exit).toBe(0);
    expect(d.destroyed.hookLines.join('\n')).toMatch(new RegExp(`offline vif\\d+\\.0: ${d.before.lease!.ip.replaceAll('.', '\\.')}, removed 1 ethers`));
    expect(d.afterDestroy.ethers.filter((l) => l.startsWith(d.before.mac))).toEqual([]);
    expect(d.afterDestroy.route).toBe('');
    expect(d.afterDestroy.hostsLine).toBe(d.before.hostsLine);
    const again = d.again.nics[0]!;
    expect(d.again.exit).toBe(0);
    expect(again.mac).not.toBe(d.before.mac);
    expect(again.lease?.ip).toBe(d.before.lease!.ip);
    expect(again.lease?.tries).toBe(1); // the first udhcpc run got it: no wait for the old MAC's lease
    expect(d.refusedLeases).toBe(0); // dnsmasq never said "not using configured address ... leased to" the old MAC
  });

  it('a hook failure (Lab_A while lab-a runs): xl create fails with the hook\'s message, nothing else changed', () => {
    onTestFailed(printEvidence);
    const f = data('hook-failure');
    expect(f.created.exit).not.toBe(0);
    expect(f.created.output).toMatch(/lab-a's address \S+ is bound in \/etc\/ethers to \S+, whose vif vif\d+\.0 is still up/);
    expect(f.created.output).toMatch(/unable to add vif devices|hotplug/i);
    expect(f.running).not.toContain('Lab_A');
    expect(f.after).toEqual(f.before);
  });

  it('two NICs through vif.default.script in xl.conf; xl network-attach and network-detach on the running guest', () => {
    onTestFailed(printEvidence);
    const t = data('two-nics-attach-detach');
    expect(t.created.exit).toBe(0);
    const [eth0, eth1] = t.created.nics;
    expect(t.created.hookLines.map((l) => onlineLine(l).hostname).sort()).toEqual(['lab-b', 'lab-b-2']);
    expect([eth0!.hotplugStatus, eth1!.hotplugStatus]).toEqual(['connected', 'connected']);
    expect(eth0!.lease?.ip).toMatch(/\.1$/);
    expect(eth1!.lease?.ip).toBe(eth0!.lease!.ip.replace(/\.1$/, '.2'));
    expect(t.attach.exit).toBe(0);
    expect(onlineLine(t.attach.hookLines[0])).toMatchObject({ device: `vif${t.created.domid}.2`, hostname: 'lab-b-3', ip: eth0!.lease!.ip.replace(/\.1$/, '.3') });
    expect(t.attached.lease?.ip).toBe(eth0!.lease!.ip.replace(/\.1$/, '.3'));
    expect(t.attached.hotplugStatus).toBe('connected');
    expect(t.detach.exit).toBe(0);
    expect(t.detach.hookLines.join('\n')).toMatch(new RegExp(`offline vif${t.created.domid}\\.2: `));
    expect(t.afterDetach).toMatchObject({ guestSawGone: true, ethersHasMac: false, route: '' });
    expect(t.afterDetach.hostsLine).toContain('lab-b-3');
  });

  it('xl save and xl restore: new domid, same name and MAC, still reachable at its address without asking DHCP again', () => {
    onTestFailed(printEvidence);
    const s = data('save-restore');
    expect(s.save.exit).toBe(0);
    expect(s.restore.exit).toBe(0);
    expect(s.domid).toBeDefined();
    expect(s.domid).not.toBe(s.beforeDomid);
    expect(s.after?.mac).toBe(s.before.mac);
    expect(s.after?.hotplugStatus).toBe('connected');
    expect(onlineLine(s.restore.hookLines[0])).toMatchObject({ hostname: 'lab-a', ip: s.before.lease!.ip, mac: s.before.mac });
    expect(s.route).toContain(`dev vif${s.domid}.0`);
    expect(s.reachable).toBe(true);
    expect(s.newBoots).toBe(0);
  });

  it('a guest that powers itself off: xl\'s background process runs offline (xl-<name>.log), the binding goes', () => {
    onTestFailed(printEvidence);
    const s = data('self-shutdown');
    expect(s.created.exit).toBe(0);
    expect(s.created.nics[0]?.lease?.ip).toBeTruthy();
    expect(s.poweredOff).toBe(true);
    expect(s.gone).toBe(true);
    expect(s.xlLogHookLines.join('\n')).toMatch(new RegExp(`offline vif${s.created.domid}\\.0: ${s.created.nics[0]!.lease!.ip.replaceAll('.', '\\.')}`));
    expect(s.after).toMatchObject({ ethersHasMac: false, route: '' });
    expect(s.after.hostsLine).toContain('lab-c');
  });

  it('a guest that reboots (on_reboot="restart"): new domid, same MACs and addresses, hooks run by xl\'s background process', () => {
    onTestFailed(printEvidence);
    const r = data('self-reboot');
    expect(r.reboot.exit).toBe(0);
    expect(r.domid).toBeDefined();
    expect(r.domid).not.toBe(r.beforeDomid);
    for (const devid of [0, 1]) {
      expect(r.after[devid]?.mac).toBe(r.before[devid]!.mac);
      expect(r.after[devid]?.lease?.ip).toBe(r.before[devid]!.lease!.ip);
      expect(r.after[devid]?.hotplugStatus).toBe('connected');
    }
    expect(r.xlLogHookLines.filter((l) => l.includes(': offline '))).toHaveLength(2);
    expect(r.xlLogHookLines.filter((l) => l.includes(': online '))).toHaveLength(2);
  });

  it('a guest with no DHCP client configures itself from what the hook published in xenstore, resolves, reaches the lan, and cannot overwrite it', () => {
    onTestFailed(printEvidence);
    const n = data('no-dhcp');
    expect(n.created.exit).toBe(0);
    const event = onlineLine(n.created.hookLines[0]);
    const nic = n.created.nics[0]!;
    const pub = n.published;
    expect(pub).toEqual({ ip: event.ip, prefix: expect.stringMatching(/^\d+$/), gateway: event.dom0Ip, dns: event.dom0Ip, hostname: 'lab-s', domain: 'xen.internal', mac: nic.mac });
    const boot = n.created.boot!.nics.eth0!;
    expect(boot.lease).toBeUndefined();
    // the guest's own view, after the project's guest script (the package's copy, byte for byte) ran on /dev/xen/xenbus
    expect(boot.static).toEqual({
      exit: 0, source: 'vif-nat-dns/0', addr: `${pub.ip}/${pub.prefix}`, gateway: pub.gateway, nameserver: pub.dns, search: pub.domain,
      hostname: pub.hostname, xenbus: '/dev/xen/xenbus', scriptMd5: n.packageScriptMd5,
    });
    expect(boot.dns).toMatchObject({ server: 'resolv.conf', answer: pub.ip });
    expect(boot.egress?.seen).toBe(UPLINK_IP);
    // a guest may not change what dom0 published for it: xenstored answers EACCES, the value stays
    expect(boot.tamper).toEqual({ node: 'vif-nat-dns/0/ip', before: pub.ip, writeExit: 1, rmExit: 1, reply: '16:EACCES', after: pub.ip });
    expect(nic.hotplugStatus).toBe('connected');
    expect(nic.route).toContain(`dev vif${n.created.domid}.0`);
    expect(nic.hostsLine.split(/\s+/)).toEqual([pub.ip, 'lab-s']);
    // dnsmasq never heard a DHCP request from it (while it logged the other guests' DHCP)
    expect(n.dhcp).toMatchObject({ linesForMac: [], leased: false });
    expect(n.dhcp.linesInAll).toBeGreaterThan(0);
    expect(n.destroyed.exit).toBe(0);
  });

  it('an HVM guest\'s emulated NIC: xl create runs online type_if=vif and add type_if=tap (vif<D>.0-emu); destroy runs offline and remove', () => {
    onTestFailed(printEvidence);
    const h = data('hvm-tap');
    expect(h.exit).toBe(0);
    const vif = `vif${h.domid}.0`;
    const event = onlineLine(h.hookLines.find((l) => l.includes(': online ')));
    expect(event).toMatchObject({ device: vif, hostname: 'lab-h', mac: h.mac });
    // the tap's event line: same guest, same address and MAC as the PV vif's
    expect(h.hookLines.filter((l) => l.includes(`: add ${vif}-emu: lab-h ${event.ip} (${h.mac}), dom0 side ${event.dom0Ip};`))).toHaveLength(1);
    expect(h.hookLines).toHaveLength(2);
    expect(h.up.hotplugStatus).toBe('connected');
    expect(h.up.links).toEqual(expect.arrayContaining([vif, `${vif}-emu`]));
    expect(h.up.ethersLine.split(/\s+/)).toEqual([h.mac, event.ip]);
    expect(h.up.routes).toContain(`dev ${vif}-emu`);
    expect(h.destroyed.exit).toBe(0);
    expect(h.destroyed.hookLines.join('\n')).toMatch(new RegExp(`offline ${vif}: `));
    expect(h.destroyed.hookLines.join('\n')).toMatch(new RegExp(`remove ${vif}-emu: `));
    expect(h.after).toMatchObject({ ethersHasMac: false, routes: '' });
    expect(h.after.links.filter((l) => l.startsWith(vif))).toEqual([]);
    expect(h.after.hostsLine.split(/\s+/)).toEqual([event.ip, 'lab-h']);
  });

  it('npm run demo:xen\'s scenario: three guests (four NICs) started at once, each row of its table from the guests themselves', () => {
    onTestFailed(printEvidence);
    const d = data('demo');
    expect(d.created.map((g) => g.exit)).toEqual([0, 0, 0]);
    const rows = demoTable(d).split('\n').slice(2);
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatch(/ (10\.\d+\.\d+\.\d+) via 10\.\d+\.\d+\.\d+ .*connected$/);
    expect(rows.filter((r) => r.includes(`= `) && r.includes(UPLINK_IP))).toHaveLength(3); // each guest's eth0: DNS answer and NAT egress
    expect(d.destroyed.every((x) => x.exit === 0)).toBe(true);
  });

  it('dom0 ran the Debian package, installed with apt-get install ./vif-nat-dns_*.deb; this machine\'s dpkg database is untouched', () => {
    onTestFailed(printEvidence);
    const p = data('installed-package');
    expect(p.status).toMatch(/^install ok installed \S+$/);
    expect(p.aptLog).toMatch(/^Setting up vif-nat-dns \(/m);
    expect(Object.keys(p.owners)).toContain('/etc/xen/scripts/vif-nat-dns');
    for (const [path, owner] of Object.entries(p.owners)) expect(owner).toBe(`vif-nat-dns: ${path}`);
    expect(p.hook.split('\n')[0]).toBe('#!/usr/bin/node');
    expect(p.hook).toContain('"/usr/lib/vif-nat-dns/loader.cjs"');
    expect(p.codeCache).toBe(true); // written by the package's loader after the scenarios' events
    expect(p.checkoutInstall).toEqual([]);
    expect(hostDpkg.after).toBe(hostDpkg.before);
  });

  it.skipIf(PARALLEL === 0)('guests created in parallel: all leased, distinct addresses, every hook well inside libxl\'s 40 s', () => {
    onTestFailed(printEvidence);
    const p = data('parallel');
    expect(p.guests).toHaveLength(PARALLEL);
    expect(p.guests.filter((g) => g.exit !== 0)).toEqual([]);
    const ips = p.guests.map((g) => g.ip);
    expect(ips.every((ip) => /^10\.\d+\.\d+\.1$/.test(ip))).toBe(true);
    expect(new Set(ips).size).toBe(ips.length);
    for (const g of p.guests) expect(onlineLine(g.hookLines[0]).ip).toBe(g.ip);
    const slowest = Math.max(...p.guests.map((g) => g.hookMs ?? Infinity));
    console.log(`[xenlab] ${p.guests.length} guests in parallel: all leased after ${(p.wallMs / 1000).toFixed(1)} s; slowest hook ${slowest} ms`);
    expect(slowest).toBeLessThan(LIBXL_HOTPLUG_TIMEOUT_MS * 0.75);
  });
});
