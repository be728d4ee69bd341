// Hostile guests against strict reverse-path checks: after network-nat-dns start, on a dom0 with Debian's sysctl defaults
// (all.rp_filter=0, default.rp_filter=2) and FORWARD policy DROP, a new vif gets rp_filter=1 and no chain of its own; the
// shared rpfilter rule at the end of VND-ANTISPOOF checks it before conntrack, the kernel's rp_filter again in routing.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, DOM0_UPLINK_IP, DOMAIN, LAN_IP, sleep, type Guest } from '../harness/sandbox';
import { antispoofing, forge, netstatCounter, ruleCounters, settle, startListener, type Forged, type Listener } from '../harness/probes';
import { daemon } from '../harness/processes';
import { antispoofTail } from '../../src/core/firewall-rules';
import { testMac } from '../harness/xen-domain';

const N = 5; // datagrams per attack
const UDP = 7000; // a UDP service on the lan, in the other guest and in dom0
const WEB = { ip: '10.0.1.1', gw: '10.0.1.129', device: 'vif7.0' };
const DB = { ip: '10.0.2.1', device: 'vif8.0' };
const FOREIGN = '198.51.100.7';

describe('anti-spoofing by the kernel\'s reverse-path filter (after network-nat-dns start)', () => {
  let box: Sandbox;
  let web: Guest;
  let db: Guest;
  let lan: Listener, other: Listener, dom0: Listener;
  let iptablesLog: string;
  const admin = (args: string[]) => box.runScript('vif-nat-dns-admin', args);
  const rpFilter = async (device: string) => (await box.dom0File(`/proc/sys/net/ipv4/conf/${device}/rp_filter`)).trim();
  const rpDrops = () => netstatCounter(box, 'TcpExt', 'IPReversePathFilter');
  /** Packets dropped by VND-ANTISPOOF's tail (the zero-source and rpfilter rules): what vifs without a chain may not send. */
  const tailDrops = async () => {
    const counters = await ruleCounters(box, 'iptables-save', 'raw');
    return antispoofTail(4646).filter((rule) => rule.endsWith('-j DROP')).reduce((sum, rule) => sum + (counters.get(`VND-ANTISPOOF ${rule}`) ?? 0), 0);
  };
  const received = () => ({ lan: lan.udp(), other: other.udp(), dom0: dom0.udp() });
  const through = (before: ReturnType<typeof received>) => { const now = received(); return now.lan - before.lan + now.other - before.other + now.dom0 - before.dom0; };
  /** The iptables commands run since the last call (every one goes through a logging wrapper first on the PATH). */
  const iptablesRuns = () => { const text = readFileSync(iptablesLog, 'utf8'); writeFileSync(iptablesLog, ''); return text.split('\n').filter(Boolean); };
  const forgedGetThrough = async (packets: Forged[]) => {
    const before = received();
    expect(await forge(box, web.ns, packets)).toBe(packets.reduce((sum, p) => sum + p.count, 0));
    await sleep(300);
    return through(before);
  };

  beforeAll(async () => {
    box = await Sandbox.create();
    const bin = join(box.dir, 'bin-logged');
    mkdirSync(bin);
    iptablesLog = join(box.dir, 'iptables.log');
    writeFileSync(iptablesLog, '');
    for (const tool of ['iptables', 'iptables-save', 'iptables-restore']) {
      // VND_TEST_FAIL_RESTORE in the hook's environment: every iptables-restore fails (a firewall step that cannot apply)
      const failing = tool === 'iptables-restore' ? '[ -n "$VND_TEST_FAIL_RESTORE" ] && exit 1\n' : '';
      writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> ${iptablesLog}\n${failing}exec /usr/sbin/${tool} "$@"\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    box.hookEnv = { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` };
    await box.inDom0(['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=2']);
    expect((await box.inDom0(['iptables', '-P', 'FORWARD', 'DROP'])).code).toBe(0);
    await box.startDnsmasq();
    const boot = await box.runScript('network-nat-dns', ['start']);
    expect(boot.code, boot.stderr).toBe(0);
    web = await box.addGuest(7, 'web', [testMac(0x72, 7)]);
    db = await box.addGuest(8, 'db', [testMac(0x72, 8)]);
    iptablesRuns();
    for (const guest of [web, db]) expect((await box.runHook(guest.vifs[0]!, 'online')).code).toBe(0);
    [lan, other, dom0] = await Promise.all([startListener(box.lan, { udp: UDP }), startListener(db.ns, { udp: UDP }), startListener(box.dom0, { udp: UDP })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([lan, other, dom0].map((l) => l?.stop()));
    await box?.destroy();
  });

  it('a new vif gets rp_filter=1 and no chain, its online runs no iptables; the guest\'s own traffic, DHCP and DNS work', async () => {
    expect(iptablesRuns()).toEqual([]);
    expect(await box.dom0File('/run/vif-nat-dns/network-started')).toBe('masquerade 10.0.0.0/8 eth0\nfirewall group=4646 isolate=no services=- antispoof=rpfilter\nkernel-antispoof\n');
    expect([await rpFilter(WEB.device), await rpFilter(DB.device)]).toEqual(['1', '1']);
    expect(await antispoofing(box)).toEqual([]);
    expect(await box.dhcp(web)).toMatchObject({ ip: WEB.ip, router: WEB.gw });
    expect(await box.dhcp(db)).toMatchObject({ ip: DB.ip });
    expect(await box.dig(web, WEB.gw, `db.${DOMAIN}`)).toBe(DB.ip);
    await forge(box, web.ns, [{ src: WEB.ip, dst: LAN_IP, dport: UDP, count: N }, { src: WEB.ip, dst: DB.ip, dport: UDP, count: N }]);
    expect(await settle(() => lan.udp(DOM0_UPLINK_IP), N)).toBe(N);
    expect(await settle(() => other.udp(WEB.ip), N)).toBe(N);
    const doctor = await admin(['doctor']);
    expect(doctor.stdout).toMatch(/^\[ ok \] firewall: 2 vif\(s\) anti-spoofed \(2 by the kernel's reverse-path filter, 0 by their chains\)/m);
  });

  it('forged sources reach neither the lan, nor the other guest, nor dom0, though they left the guest: the shared rules drop them before conntrack', async () => {
    const attacks: Array<[string, Forged]> = [
      ['another guest\'s address -> lan', { src: DB.ip, dst: LAN_IP, dport: UDP, count: N }],
      ['another guest\'s address -> dom0 (vif side)', { src: DB.ip, dst: WEB.gw, dport: UDP, count: N }],
      ['another guest\'s address -> dom0 DNS, reply aimed at that guest', { src: DB.ip, dst: WEB.gw, sport: UDP, dport: 53, count: N, dns: true }],
      ['foreign address -> lan', { src: FOREIGN, dst: LAN_IP, dport: UDP, count: N }],
      ['foreign address -> other guest', { src: FOREIGN, dst: DB.ip, dport: UDP, count: N }],
      ['foreign address -> dom0 (uplink address)', { src: FOREIGN, dst: DOM0_UPLINK_IP, dport: UDP, count: N }],
      ['unallocated guest address -> other guest', { src: '10.0.99.1', dst: DB.ip, dport: UDP, count: N }],
      ['dom0\'s own address -> other guest', { src: DOM0_UPLINK_IP, dst: DB.ip, dport: UDP, count: N }],
      ['0.0.0.0 -> dom0, not DHCP', { src: '0.0.0.0', dst: WEB.gw, dport: UDP, count: N }],
    ];
    const rx = async () => Number(await box.dom0File(`/sys/class/net/${WEB.device}/statistics/rx_packets`));
    for (const [attack, packet] of attacks) {
      const [dropsBefore, rxBefore] = [await tailDrops(), await rx()];
      expect(await forgedGetThrough([packet]), attack).toBe(0);
      expect(await rx() - rxBefore, `${attack}: arrived on dom0's side of the vif`).toBeGreaterThanOrEqual(N);
      expect(await tailDrops() - dropsBefore, `${attack}: dropped by VND-ANTISPOOF's tail`).toBeGreaterThanOrEqual(N);
    }
  }, 60_000);

  it('a connected UDP socket of dom0\'s gets no datagram forged as its peer\'s: the rpfilter rule comes before early demux, which skips rp_filter', async () => {
    // dom0 asks the lan something over a connected socket (as an NTP or DNS client does) and gets its answer; the guest
    // then forges more answers from the lan's address and port. Conntrack calls them ESTABLISHED (VND-INPUT accepts
    // them) and UDP early demux hands them the route cached on the socket: rp_filter alone never sees them
    const PEER = 7001;
    const peer = daemon('nsenter', ['-t', String(box.lan.pid), '-n', '--', process.execPath, '-e',
      `const s=require("dgram").createSocket("udp4");s.on("message",(m,r)=>s.send(m,r.port,r.address));s.bind(${PEER},"${LAN_IP}",()=>console.log("listening"))`]);
    let client: ReturnType<typeof daemon> | undefined;
    try {
      await peer.waitFor(/listening/);
      client = daemon('nsenter', ['-t', String(box.dom0.pid), '-n', '--', process.execPath, '-e',
        `const s=require("dgram").createSocket("udp4");s.on("message",(m,r)=>console.log("from "+r.address+":"+r.port+" "+m));
s.on("error",(e)=>console.log("error "+e.message));s.connect(${PEER},"${LAN_IP}",()=>{console.log("port "+s.address().port);s.send("question")})`]);
      await client.waitFor(/from .* question/);
      const port = Number(/port (\d+)/.exec(client.output())![1]);
      const answers = () => client!.output().split('\n').filter((line) => line.startsWith(`from ${LAN_IP}:${PEER} `)).length;
      const forged: Forged = { src: LAN_IP, dst: DOM0_UPLINK_IP, sport: PEER, dport: port, count: N };
      const dropsBefore = await tailDrops();
      expect(await forge(box, web.ns, [forged])).toBe(N);
      await sleep(300);
      expect(answers()).toBe(1);
      expect(await tailDrops() - dropsBefore).toBeGreaterThanOrEqual(N);
      // the control: without the rpfilter rule the same datagrams reach the socket, though the vif's rp_filter is 1
      const rule = antispoofTail(4646)[2]!;
      expect((await box.inDom0(['iptables', '-t', 'raw', '-D', 'VND-ANTISPOOF', ...rule.split(' ')])).code).toBe(0);
      expect(await forge(box, web.ns, [forged])).toBe(N);
      expect(await settle(answers, 1 + N)).toBe(1 + N);
      expect(await rpFilter(WEB.device)).toBe('1');
      expect((await admin(['regen-firewall'])).stdout).toBe('~ raw VND-ANTISPOOF (3 rules)\n');
      expect(await forge(box, web.ns, [forged])).toBe(N);
      await sleep(300);
      expect(answers()).toBe(1 + N);
    } finally {
      await Promise.all([peer.stop(), client?.stop()]);
    }
  });

  it('a flushed firewall leaves it checking; doctor names the flush; regen-firewall puts the shared chains back and no vif chain', async () => {
    for (const table of ['raw', 'filter']) expect((await box.inDom0(['iptables', '-t', table, '-F'])).code).toBe(0);
    const rpDropsBefore = await rpDrops();
    expect(await forgedGetThrough([{ src: DB.ip, dst: LAN_IP, dport: UDP, count: N }, { src: FOREIGN, dst: DB.ip, dport: UDP, count: N }])).toBe(0);
    expect(await rpDrops() - rpDropsBefore, 'dropped by the vif\'s own rp_filter').toBeGreaterThanOrEqual(2 * N);
    const doctor = await admin(['doctor']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/^\[FAIL\] no jump from filter INPUT to VND-INPUT: guests reach every dom0 service$/m);
    expect((await admin(['regen-firewall'])).code).toBe(0);
    expect(await antispoofing(box)).toEqual([]);
    expect((await admin(['doctor'])).stdout).toMatch(/^\[ ok \] firewall: 2 vif\(s\) anti-spoofed/m);
    iptablesRuns();
  });

  it('an emulated NIC, a repeated online and KERNEL_ANTISPOOF=no get chains; offline of a kernel-filtered vif runs no iptables', async () => {
    const hvm = await box.addGuest(22, 'hvm', [testMac(0x72, 22)], { headless: true });
    await box.inDom0(['ip', 'link', 'add', 'vif22.0-emu', 'type', 'veth', 'peer', 'name', 'emu22']);
    expect((await box.runHook(hvm.vifs[0]!, 'add')).code).toBe(0);
    expect(iptablesRuns()).toEqual([expect.stringMatching(/^iptables-restore /)]);
    expect((await box.runHook(hvm.vifs[0]!, 'online')).code).toBe(0);
    expect(iptablesRuns()).toEqual([]);
    expect(await antispoofing(box)).toEqual(['vif22.0-emu 10.0.3.1']);
    expect([await rpFilter('vif22.0'), await rpFilter('vif22.0-emu')]).toEqual(['1', '0']);

    expect((await box.runHook(hvm.vifs[0]!, 'offline')).code).toBe(0);
    expect(iptablesRuns()).toEqual([]);
    expect((await box.inDom0(['ip', '-N', '-o', 'link', 'show', 'dev', 'vif22.0'])).stdout).toMatch(/state DOWN .* group 0 /);
    expect((await box.runHook(hvm.vifs[0]!, 'remove')).code).toBe(0);
    expect(iptablesRuns()).toEqual([expect.stringMatching(/^iptables-restore /)]); // the emulated NIC's chain goes
    expect(await antispoofing(box)).toEqual([]);

    // online again after an offline: a first online (the offline unconfigured it), kernel-filtered; a repeated online keeps that
    expect((await box.runHook(hvm.vifs[0]!, 'online')).code).toBe(0);
    expect((await box.runHook(hvm.vifs[0]!, 'online')).code).toBe(0);
    expect(iptablesRuns()).toEqual([]);
    expect(await rpFilter('vif22.0')).toBe('1');
    // a repeated online that would move it to a chain (KERNEL_ANTISPOOF=no now) but whose firewall step fails: the kernel's
    // check was never off, and stays on
    const failed = await box.runHook(hvm.vifs[0]!, 'online', { VIF_NAT_DNS_KERNEL_ANTISPOOF: 'no', VND_TEST_FAIL_RESTORE: '1' });
    expect(failed.code).not.toBe(0);
    expect(await rpFilter('vif22.0')).toBe('1');
    expect(await antispoofing(box)).toEqual([]);
    // the same online that succeeds: its chain first, then rp_filter=0
    expect((await box.runHook(hvm.vifs[0]!, 'online', { VIF_NAT_DNS_KERNEL_ANTISPOOF: 'no' })).code).toBe(0);
    expect(await antispoofing(box)).toEqual(['vif22.0 10.0.3.1']);
    expect(await rpFilter('vif22.0')).toBe('0');
    // a repeated online of a vif with a chain keeps its chain (KERNEL_ANTISPOOF=yes again)
    expect((await box.runHook(hvm.vifs[0]!, 'online')).code).toBe(0);
    expect([await antispoofing(box), await rpFilter('vif22.0')]).toEqual([['vif22.0 10.0.3.1'], '0']);
    expect((await box.runHook(hvm.vifs[0]!, 'offline')).code).toBe(0);
    expect(await antispoofing(box)).toEqual([]);
    await box.destroyGuest(hvm);

    const optedOut = await box.addGuest(23, 'chained', [testMac(0x72, 23)], { headless: true });
    expect((await box.runHook(optedOut.vifs[0]!, 'online', { VIF_NAT_DNS_KERNEL_ANTISPOOF: 'no' })).code).toBe(0);
    expect(await antispoofing(box)).toEqual([expect.stringMatching(/^vif23\.0 10\.0\.\d+\.1$/)]);
    expect(await rpFilter('vif23.0')).toBe('0');
    expect((await box.runHook(optedOut.vifs[0]!, 'offline')).code).toBe(0);
    expect(await antispoofing(box)).toEqual([]);
    await box.destroyGuest(optedOut);
    iptablesRuns();
  });

  it('a sysctl.d pattern that would reset new vifs\' rp_filter (as systemd\'s udev rule applies it) keeps new vifs on chains; offline still removes them', async () => {
    await box.writeDom0File('/etc/sysctl.d/50-default.conf', '# as systemd ships it\nnet.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter\n');
    const regen = await admin(['regen-firewall']);
    expect(regen.stdout).toContain('(new vifs get chains of their own: /etc/sysctl.d/50-default.conf:2: net.ipv4.conf.*.rp_filter = 2 would reset their rp_filter)');
    expect(await box.dom0File('/run/vif-nat-dns/network-started')).toBe('masquerade 10.0.0.0/8 eth0\nfirewall group=4646 isolate=no services=- antispoof=rpfilter\n');
    // regen gave the running vifs chains too (rp_filter=0): from here on a vif's rp_filter may be someone else's
    expect(regen.stdout).toContain(`+ raw VND-SRC-${WEB.device}: ${WEB.device} may send from ${WEB.ip}`);
    expect(await rpFilter(WEB.device)).toBe('0');
    const doctor = await admin(['doctor']);
    expect(doctor.stdout).toContain('[WARN] new vifs get chains of their own, not the kernel\'s check (KERNEL_ANTISPOOF=yes): /etc/sysctl.d/50-default.conf:2');
    expect(doctor.stdout).toMatch(/^\[ ok \] firewall: 2 vif\(s\) anti-spoofed, /m);
    const late = await box.addGuest(24, 'late', [testMac(0x72, 24)], { headless: true });
    expect((await box.runHook(late.vifs[0]!, 'online')).code).toBe(0);
    expect(await antispoofing(box)).toEqual(expect.arrayContaining([expect.stringMatching(/^vif24\.0 /)]));
    await box.inDom0(['sysctl', '-qw', 'net.ipv4.conf.vif24/0.rp_filter=1']); // what such a pattern may do after the online
    expect((await box.runHook(late.vifs[0]!, 'offline')).code).toBe(0);
    expect(await antispoofing(box)).toEqual([`${WEB.device} ${WEB.ip}`, `${DB.device} ${DB.ip}`]);
    await box.destroyGuest(late);
    // the pattern gone and the vifs' filter strict again (by hand): regen leaves them to the kernel and drops their chains
    await box.inDom0(['rm', '/etc/sysctl.d/50-default.conf']);
    await box.inDom0(['sysctl', '-qw', 'net.ipv4.conf.vif7/0.rp_filter=1', 'net.ipv4.conf.vif8/0.rp_filter=1']);
    expect((await admin(['regen-firewall'])).stdout).toBe(`- raw VND-SRC-${WEB.device}\n- raw VND-SRC-${DB.device}\n`);
    expect(await box.dom0File('/run/vif-nat-dns/network-started')).toContain('kernel-antispoof\n');
    expect(await antispoofing(box)).toEqual([]);
    iptablesRuns();
  });

  it('all.rp_filter=2 loosens the vifs\' own filter: the rpfilter rule still checks them, doctor says so, regen-firewall gives them chains and rp_filter=0, new vifs get chains', async () => {
    await box.inDom0(['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=2']);
    const dropsBefore = await tailDrops();
    expect(await forgedGetThrough([{ src: DB.ip, dst: LAN_IP, dport: UDP, count: N }])).toBe(0);
    expect(await tailDrops() - dropsBefore).toBeGreaterThanOrEqual(N);
    const doctor = await admin(['doctor']);
    expect(doctor.stdout).toContain(`[WARN] ${WEB.device} (${WEB.ip}) has no chain and net.ipv4.conf.all.rp_filter=2 makes its rp_filter=1 loose: only VND-ANTISPOOF's rpfilter rule checks its sources`);
    expect(doctor.stdout).not.toContain('[FAIL]');
    const regen = await admin(['regen-firewall']);
    expect(regen.stdout).toContain(`+ raw VND-SRC-${WEB.device}: ${WEB.device} may send from ${WEB.ip}`);
    expect(regen.stdout).toContain(`~ ${WEB.device}: rp_filter=0, its chain checks its sources`);
    expect(await antispoofing(box)).toEqual([`${WEB.device} ${WEB.ip}`, `${DB.device} ${DB.ip}`]);
    expect(await rpFilter(WEB.device)).toBe('0');
    expect(await forgedGetThrough([{ src: DB.ip, dst: LAN_IP, dport: UDP, count: N }])).toBe(0);
    const app = await box.addGuest(9, 'app', [testMac(0x72, 9)], { headless: true });
    expect((await box.runHook(app.vifs[0]!, 'online')).code).toBe(0);
    expect(await antispoofing(box)).toEqual(expect.arrayContaining([expect.stringMatching(/^vif9\.0 10\.0\.\d+\.1$/)]));
    expect((await box.runHook(web.vifs[0]!, 'offline')).code).toBe(0); // its chain goes with it
    expect(await antispoofing(box)).not.toContain(`${WEB.device} ${WEB.ip}`);
  });
});
