// Hostile guests against the firewall, once per iptables backend (nf_tables and legacy), on a dom0 with rp_filter=2 and FORWARD policy DROP.
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, DOM0_UPLINK_IP, DOMAIN, LAN_IP, sleep, type Guest } from '../harness/sandbox';

import { forge, pings, ruleCounters, settle, startListener, tcpOpens, type Forged, type Listener } from '../harness/probes';
import { testMac } from '../harness/xen-domain';

const N = 5; // datagrams per attack
const UDP = 7000; // a UDP service on the lan, in the other guest and in dom0 (not one guests may use)
const TCP = 2222; // a TCP service of dom0's, on every address, IPv4 and IPv6
const WEB = { ip: '10.0.1.1', gw: '10.0.1.129', device: 'vif7.0' };
const DB = { ip: '10.0.2.1', gw: '10.0.2.129', device: 'vif8.0' };
const FOREIGN = '198.51.100.7';
const VIF_LINK_LOCAL = 'fe80::fcff:ffff:feff:ffff'; // dom0's side of a vif (MAC fe:ff:ff:ff:ff:ff) if it had IPv6
const table: string[] = [];

describe.each([['nf_tables', 'nft'], ['legacy', 'legacy']])('firewall, iptables %s backend', (backend, suffix) => {
  const iptables = `iptables-${suffix}`;
  const save = `iptables-${suffix}-save`;
  let box: Sandbox;
  let web: Guest;
  let db: Guest;
  let lan: Listener, other: Listener, dom0: Listener;
  const admin = (args: string[], env: Record<string, string> = {}) => box.runScript('vif-nat-dns-admin', args, env);
  const dropped = async () => (await ruleCounters(box, save, 'raw')).get(`VND-SRC-${WEB.device} -j DROP`) ?? 0;
  const saved = async () => (await box.inDom0([save])).stdout.replace(/^#.*\n/gm, '');
  const received = () => ({ lan: lan.udp(), other: other.udp(), dom0: dom0.udp() + dom0.tcp() });
  const record = (attack: string, tried: number, through: number) => table.push(`| ${attack} | ${backend} | ${tried} | ${through} |`);

  beforeAll(async () => {
    box = await Sandbox.create();
    // this backend's iptables, iptables-save and iptables-restore first on the PATH of every hook and admin command
    const bin = join(box.dir, `bin-${suffix}`);
    mkdirSync(bin);
    for (const tool of ['', '-save', '-restore']) symlinkSync(`/usr/sbin/iptables-${suffix}${tool}`, join(bin, `iptables${tool}`));
    box.hookEnv = { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` };
    // an Ubuntu dom0 (10-network-security.conf: loose reverse-path filtering, so every vif gets its own chain) whose FORWARD
    // policy is DROP (as Docker leaves it); test/integration/firewall-kernel.test.ts runs the attacks on kernel-filtered vifs
    await box.inDom0(['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=2', 'net.ipv4.conf.default.rp_filter=2']);
    expect((await box.inDom0([iptables, '-P', 'FORWARD', 'DROP'])).code).toBe(0);
    await box.startDnsmasq();
    web = await box.addGuest(7, 'web', [testMac(0x70, 7)]);
    db = await box.addGuest(8, 'db', [testMac(0x70, 8)]);
    for (const guest of [web, db]) expect((await box.runHook(guest.vifs[0]!, 'online')).code).toBe(0);
    [lan, other, dom0] = await Promise.all([startListener(box.lan, { udp: UDP }), startListener(db.ns, { udp: UDP }), startListener(box.dom0, { udp: UDP, tcp: TCP })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([lan, other, dom0].map((l) => l?.stop()));
    await box?.destroy();
  });

  it('the guest\'s own traffic, DHCP, DNS and ping work, and it reaches the lan and the other guest under FORWARD policy DROP', async () => {
    expect((await box.inDom0([iptables, '-S', 'FORWARD'])).stdout).toMatch(/^-P FORWARD DROP$/m);
    expect(await box.dhcp(web)).toMatchObject({ ip: WEB.ip, router: WEB.gw });
    expect(await box.dhcp(db)).toMatchObject({ ip: DB.ip, router: DB.gw });
    expect(await box.dig(web, WEB.gw, `db.${DOMAIN}`)).toBe(DB.ip);
    expect(await box.egress(web)).toBe(DOM0_UPLINK_IP);
    expect(await pings(box, web.ns, WEB.gw)).toBe(true); // ICMP echo to dom0 is allowed
    await forge(box, web.ns, [{ src: WEB.ip, dst: LAN_IP, dport: UDP, count: N }, { src: WEB.ip, dst: DB.ip, dport: UDP, count: N }]);
    expect(await settle(() => lan.udp(DOM0_UPLINK_IP), N)).toBe(N);
    expect(await settle(() => other.udp(WEB.ip), N)).toBe(N);
  });

  it('with its anti-spoofing chain flushed, forged packets get through (rp_filter=2 stops none); doctor names it; regen-firewall restores it', async () => {
    expect((await box.inDom0([iptables, '-t', 'raw', '-F', `VND-SRC-${WEB.device}`])).code).toBe(0);
    const doctor = await admin(['doctor']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(`[FAIL] ${WEB.device}'s anti-spoofing rules are stale: they are not the ones for ${WEB.ip}\n       fix: vif-nat-dns-admin regen-firewall`);
    const before = received();
    await forge(box, web.ns, [{ src: DB.ip, dst: LAN_IP, dport: UDP, count: N }, { src: FOREIGN, dst: DB.ip, dport: UDP, count: N }]);
    expect(await settle(() => received().lan - before.lan, N)).toBe(N);
    expect(await settle(() => received().other - before.other, N)).toBe(N);

    const regen = await admin(['regen-firewall']);
    expect(regen.code).toBe(0);
    expect(regen.stdout).toBe(`~ raw VND-SRC-${WEB.device}: ${WEB.device} may send from ${WEB.ip}\n`);
    expect((await admin(['doctor'])).stdout).toMatch(/^\[ ok \] firewall: 2 vif\(s\) anti-spoofed/m);
    expect((await admin(['regen-firewall'])).stdout).toBe('(no change)\n');
  });

  it('forged sources reach neither the lan, nor the other guest, nor dom0, though they left the guest', async () => {
    const attacks: Array<[string, Forged]> = [
      ['another guest\'s address -> lan', { src: DB.ip, dst: LAN_IP, dport: UDP, count: N }],
      ['another guest\'s address -> dom0 (vif side)', { src: DB.ip, dst: WEB.gw, dport: UDP, count: N }],
      ['another guest\'s address -> dom0 DNS, reply aimed at that guest', { src: DB.ip, dst: WEB.gw, sport: UDP, dport: 53, count: N, dns: true }],
      ['foreign address -> lan', { src: FOREIGN, dst: LAN_IP, dport: UDP, count: N }],
      ['foreign address -> other guest', { src: FOREIGN, dst: DB.ip, dport: UDP, count: N }],
      ['foreign address -> dom0 (uplink address)', { src: FOREIGN, dst: DOM0_UPLINK_IP, dport: UDP, count: N }],
      ['dom0\'s own address -> other guest', { src: DOM0_UPLINK_IP, dst: DB.ip, dport: UDP, count: N }],
      ['unallocated guest address -> other guest', { src: '10.0.99.1', dst: DB.ip, dport: UDP, count: N }],
      ['0.0.0.0 -> dom0, not DHCP', { src: '0.0.0.0', dst: WEB.gw, dport: UDP, count: N }],
    ];
    const rx = async () => Number(await box.dom0File(`/sys/class/net/${WEB.device}/statistics/rx_packets`));
    for (const [attack, packet] of attacks) {
      const [before, droppedBefore, rxBefore] = [received(), await dropped(), await rx()];
      expect(await forge(box, web.ns, [packet])).toBe(N);
      const droppedNow = await settle(async () => await dropped() - droppedBefore, N); // all N seen by dom0's firewall...
      await sleep(100); // ...and anything it let through delivered
      const after = received();
      const through = after.lan - before.lan + after.other - before.other + after.dom0 - before.dom0;
      record(`forged source: ${attack}`, N, through);
      expect(through, attack).toBe(0);
      expect(droppedNow, `${attack}: dropped on dom0's side of the vif`).toBe(N);
      expect(await rx() - rxBefore, `${attack}: arrived on dom0's side of the vif`).toBeGreaterThanOrEqual(N);
    }
  }, 60_000);

  it('dom0\'s services are closed to guests, over IPv4 and IPv6, unless DOM0_SERVICES lists them', async () => {
    const targets = [WEB.gw, DB.gw, DOM0_UPLINK_IP].map((host) => ({ host, port: TCP }));
    const inputDrops = async () => (await ruleCounters(box, save, 'filter')).get('VND-INPUT -j DROP') ?? 0;
    const dropsBefore = await inputDrops();
    expect(await tcpOpens(box, web.ns, targets)).toEqual([false, false, false]);
    await forge(box, web.ns, [{ src: WEB.ip, dst: WEB.gw, dport: UDP, count: N }]);
    expect(await tcpOpens(box, web.ns, [{ host: `${VIF_LINK_LOCAL}%eth0`, port: TCP }])).toEqual([false]);
    expect(await settle(async () => await inputDrops() - dropsBefore, 3 + N)).toBeGreaterThanOrEqual(3 + N);
    await sleep(100);
    expect(dom0.tcp() + dom0.udp()).toBe(0);
    record('guest -> dom0 TCP service (3 dom0 addresses), UDP service (N datagrams)', 3 + N, dom0.tcp() + dom0.udp());
    record('guest -> dom0 TCP service over IPv6 link-local', 1, dom0.tcp());

    // the IPv6 probe can see a listener: with IPv6 left on dom0's side of the vif, it connects
    await box.inDom0(['sysctl', '-qw', `net/ipv6/conf/${WEB.device}/disable_ipv6=0`]);
    let opened = false;
    for (let i = 0; i < 10 && !opened; i++) opened = (await tcpOpens(box, web.ns, [{ host: `${VIF_LINK_LOCAL}%eth0`, port: TCP }], 3000))[0] === true;
    expect(opened).toBe(true);
    await box.inDom0(['sysctl', '-qw', `net/ipv6/conf/${WEB.device}/disable_ipv6=1`]);

    const services = { VIF_NAT_DNS_DOM0_SERVICES: `tcp/${TCP} udp/${UDP}` };
    expect((await admin(['regen-firewall'], services)).stdout).toMatch(/^~ filter VND-INPUT/);
    const tcpBefore = dom0.tcp();
    expect(await tcpOpens(box, web.ns, targets, 5000)).toEqual([true, true, true]);
    await forge(box, web.ns, [{ src: WEB.ip, dst: WEB.gw, dport: UDP, count: N }]);
    expect(await settle(() => dom0.udp(WEB.ip), N)).toBe(N);
    expect(dom0.tcp() - tcpBefore).toBe(3);
    expect((await admin(['regen-firewall'])).code).toBe(0);
    expect(await tcpOpens(box, web.ns, targets.slice(0, 1))).toEqual([false]);
  }, 60_000);

  it('ISOLATE=yes: guests cannot reach each other, but still the outside and dom0\'s DNS', async () => {
    expect((await admin(['regen-firewall'], { VIF_NAT_DNS_ISOLATE: 'yes' })).stdout).toMatch(/^~ filter VND-FORWARD/);
    const before = received();
    await forge(box, web.ns, [{ src: WEB.ip, dst: DB.ip, dport: UDP, count: N }, { src: WEB.ip, dst: LAN_IP, dport: UDP, count: N }]);
    expect(await settle(() => received().lan - before.lan, N)).toBe(N); // sent after the N to the other guest
    await sleep(100);
    record('guest -> other guest with ISOLATE=yes', N, received().other - before.other);
    expect(received().other - before.other).toBe(0);
    expect(received().lan - before.lan).toBe(N);
    expect(await box.dig(web, WEB.gw, `db.${DOMAIN}`)).toBe(DB.ip);
    expect((await admin(['regen-firewall'])).stdout).toMatch(/^~ filter VND-FORWARD/); // back to ISOLATE=no
  });

  it('offline leaves no rule of its vif and takes it out of the guests\' group; the other vif keeps its rules', async () => {
    expect((await box.runHook(web.vifs[0]!, 'offline')).code).toBe(0);
    const rules = await saved();
    expect(rules).not.toContain(WEB.device);
    expect(rules).toContain(`-A VND-ANTISPOOF -i ${DB.device} -g VND-SRC-${DB.device}`);
    expect((await box.inDom0(['ip', '-N', '-o', 'link', 'show', 'dev', WEB.device])).stdout).toContain(' group 0 ');
    expect((await box.runHook(web.vifs[0]!, 'offline')).code).toBe(0);
    expect(await saved()).toBe(rules); // a second offline changes nothing
    expect((await admin(['doctor'])).stdout).toMatch(/^\[ ok \] firewall: 1 vif\(s\) anti-spoofed/m);
  });

  it('a storm of parallel onlines, each vif twice, leaves every rule exactly once; a parallel offline storm leaves none', async () => {
    const vifs = [];
    for (let i = 0; i < 20; i++) vifs.push((await box.addGuest(200 + i, `storm-${i}`, [testMac(0x71, i)], { headless: true })).vifs[0]!);
    const onlines = await Promise.all([...vifs, ...vifs].map((vif) => box.runHook(vif, 'online')));
    expect(onlines.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
    const rules = (await box.inDom0([save])).stdout.split('\n');
    for (const vif of vifs) expect(rules.filter((r) => r === `-A VND-ANTISPOOF -i vif${vif.domid}.0 -g VND-SRC-vif${vif.domid}.0`), vif.name).toHaveLength(1);
    for (const jump of ['-A PREROUTING -j VND-ANTISPOOF', '-A FORWARD -j VND-FORWARD', '-A INPUT -j VND-INPUT']) expect(rules.filter((r) => r === jump)).toHaveLength(1);
    expect((await admin(['doctor'])).stdout).toMatch(/^\[ ok \] firewall: 21 vif\(s\) anti-spoofed/m);

    const offlines = await Promise.all(vifs.map((vif) => box.runHook(vif, 'offline')));
    expect(offlines.every((r) => r.code === 0)).toBe(true);
    expect((await box.inDom0([save])).stdout).not.toMatch(/VND-SRC-vif2\d\d\.0/);
  }, 120_000);
});

afterAll(() => {
  // the README's table of attacks is this output
  console.log(['| attack | iptables backend | tried | got through |', '|---|---|---|---|', ...table].join('\n'));
});
