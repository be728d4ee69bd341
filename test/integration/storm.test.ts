// Storms of parallel hooks against one set of files: distinct addresses, complete files, no lost or duplicated line, DHCP for a sample;
// every hook is SIGKILLed at libxl's 40 s, so a slow hook fails the storm as it would fail a guest's start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, LIBXL_HOTPLUG_TIMEOUT_MS } from '../harness/sandbox';
import { parseHosts } from '../../src/core/hosts-file';
import { parseEthers } from '../../src/core/ethers-file';
import { testMac, type VifSpec } from '../harness/xen-domain';

const STORM = Number(process.env.VND_STORM ?? 50);
const MIXED = Number(process.env.VND_MIXED_STORM ?? 200);
const mac = (domid: number, devid: number) => testMac(0x30 + devid, domid);
const mixMac = (domid: number, devid: number) => testMac(0x40 + devid, domid);

let box: Sandbox;
beforeAll(async () => { box = await Sandbox.create(); await box.startDnsmasq(); });
afterAll(async () => { await box?.destroy(); });

/** Failed hooks, a killed one named as such (libxl would have failed that guest's start). */
const failures = (results: readonly { code: number; ms: number; stderr: string }[]) =>
  results.filter((r) => r.code !== 0).map((r) => (r.ms >= LIBXL_HOTPLUG_TIMEOUT_MS ? `killed at ${LIBXL_HOTPLUG_TIMEOUT_MS / 1000} s like libxl` : r.stderr));

async function managed() {
  const hosts = parseHosts(await box.dom0File('/etc/hosts')).entries.filter((e) => e.address.startsWith('10.'));
  const ethers = parseEthers(await box.dom0File('/etc/ethers')).entries;
  return { hosts, ethers, byName: new Map(hosts.map((e) => [e.names[0]!, e.address])) };
}

describe('storms', () => {
  it(`${STORM} guests brought online at once: distinct addresses, complete files, DHCP works for a sample`, async () => {
    const sample = new Set([100, 100 + Math.floor(STORM / 2), 100 + STORM - 1]);
    const guests = [];
    for (let i = 0; i < STORM; i++) {
      const domid = 100 + i;
      guests.push(await box.addGuest(domid, `storm-${i}`, [mac(domid, 0)], { headless: !sample.has(domid) }));
    }
    const results = await Promise.all(guests.map((g) => box.runHook(g.vifs[0]!, 'online')));
    expect(failures(results)).toEqual([]);
    const { hosts, ethers, byName } = await managed();
    expect(hosts).toHaveLength(STORM);
    expect(new Set(hosts.map((e) => e.address)).size).toBe(STORM);
    expect(ethers).toHaveLength(STORM);
    for (const g of guests) expect(ethers.find((e) => e.mac === g.vifs[0]!.mac)?.target).toBe(byName.get(g.name));
    for (const domid of sample) {
      const g = guests[domid - 100]!;
      expect(await box.dhcp(g)).toMatchObject({ ip: byName.get(g.name) });
    }
    for (const g of guests) expect(box.xs.read(`/local/domain/0/backend/vif/${g.domid}/0/hotplug-status`)).toBe('connected');
  }, 300_000);

  it(`a mixed storm of ${MIXED} online/offline events (several vifs per guest) ends as a sequential run would`, async () => {
    // guests 0..n-1 have 2 vifs each; first half is online beforehand
    const n = Math.ceil(MIXED / 4);
    const specs = new Map<number, VifSpec[]>();
    for (let i = 0; i < 2 * n; i++) {
      const domid = 1000 + i;
      specs.set(domid, (await box.addGuest(domid, `mix-${i}`, [mixMac(domid, 0), mixMac(domid, 1)], { headless: true })).vifs);
    }
    const firstHalf = [...specs.entries()].filter(([domid]) => domid < 1000 + n);
    await Promise.all(firstHalf.flatMap(([, vifs]) => vifs.map((v) => box.runHook(v, 'online'))));

    // concurrently: the first half of those goes offline, the second half comes online again, n new guests come online
    const events: Array<[VifSpec, 'online' | 'offline']> = [];
    for (const [domid, vifs] of specs) {
      const i = domid - 1000;
      for (const v of vifs) events.push([v, i < n / 2 ? 'offline' : 'online']);
    }
    const started = performance.now();
    // regen-ethers three times in the middle of the storm: it must change nothing the hooks would not
    const regens = [200, 800, 1600].map((delay) => new Promise((resolve) => setTimeout(resolve, delay)).then(() => box.runScript('regen-ethers', [])));
    const results = await Promise.all(events.map(([v, command]) => box.runHook(v, command)));
    const wall = performance.now() - started;
    expect(failures(results)).toEqual([]);
    expect((await Promise.all(regens)).map((r) => r.code)).toEqual([0, 0, 0]);
    console.log(`mixed storm: ${events.length} events in ${Math.round(wall)} ms, slowest hook ${Math.round(Math.max(...results.map((r) => r.ms)))} ms`);

    const { ethers, byName } = await managed();
    const expected = new Set<string>();
    for (const [domid, vifs] of specs) {
      const i = domid - 1000;
      for (const v of vifs) {
        const hostname = v.devid === 0 ? `mix-${i}` : `mix-${i}-2`;
        expect(byName.get(hostname)).toBeDefined(); // hosts lines are kept, also for guests gone offline
        if (i >= n / 2) expected.add(`${v.mac} ${byName.get(hostname)}`);
      }
    }
    const actual = ethers.filter((e) => /^00:16:3e:4[01]:/.test(e.mac)).map((e) => `${e.mac} ${e.target}`);
    expect(new Set(actual)).toEqual(expected);
    expect(actual).toHaveLength(expected.size);
    const addresses = [...byName.values()];
    expect(new Set(addresses).size).toBe(addresses.length);
    for (const [domid, vifs] of specs) {
      const a = byName.get(`mix-${domid - 1000}`)!.split('.').slice(0, 3).join('.');
      const b = byName.get(`mix-${domid - 1000}-2`)!.split('.').slice(0, 3).join('.');
      expect(b).toBe(a); // one machine number per guest
      void vifs;
    }
  }, 600_000);
});
