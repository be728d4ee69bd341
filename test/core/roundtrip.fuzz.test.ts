// Property tests: hosts/ethers parse-render is the identity on arbitrary bytes, and planning never loses a line it does not own.
import { describe, expect, it } from 'vitest';
import { entriesAt, entriesNamed, forEachLeadingAddress, leadingIPv4, parseEntry, parseHosts, renderHosts } from '../../src/core/hosts-file';
import { formatIPv4, parseIPv4 } from '../../src/core/ipv4';
import { parseEthers, renderEthers } from '../../src/core/ethers-file';
import { planOnline } from '../../src/core/plan-online';
import { planOffline } from '../../src/core/plan-offline';
import { parseScheme } from '../../src/core/scheme';
import { seededRandom, type Random } from '../harness/random';

const CASES = Number(process.env.VND_FUZZ_CASES ?? 3000);
const scheme = parseScheme('10.0.0.0/8');
const PIECES = ['10.0.1.1', '10.0.2.1', '127.0.0.1', '::1', 'fe80::1%eth0', '00:16:3e:00:00:01', '8:0:20:1:2:3', 'web', 'WEB', 'web-2', 'dom1', 'dom10',
  ' ', '  ', '\t', '#', '# comment', '\r', '\0', '\xff', 'é', '010.0.1.1', '10', '10.0.1.129', 'x'.repeat(70)];

function randomText(r: Random): string {
  let out = '';
  const lines = r.int(0, 12);
  for (let i = 0; i < lines; i++) {
    const parts = r.int(0, 5);
    for (let j = 0; j < parts; j++) out += r.pick(PIECES) + (r.next() < 0.7 ? r.pick([' ', '\t', '']) : '');
    out += r.pick(['\n', '\n', '\n', '\r\n', '']);
  }
  return out;
}

describe(`fuzz (${CASES} cases)`, () => {
  const r = seededRandom();
  it(`parse-render round-trips arbitrary text (replay with VND_SEED=${r.seed})`, () => {
    for (let i = 0; i < CASES; i++) {
      const text = randomText(r);
      expect(renderHosts(parseHosts(text)), `case ${i}: ${JSON.stringify(text)}`).toBe(text);
      expect(renderEthers(parseEthers(text)), `case ${i}: ${JSON.stringify(text)}`).toBe(text);
    }
  });

  it(`the hook's allocation-free lookups agree with the full parse (replay with VND_SEED=${r.seed})`, () => {
    for (let i = 0; i < CASES; i++) {
      const hosts = parseHosts(randomText(r));
      hosts.lines.forEach((text, index) => {
        const entry = parseEntry(text, index);
        if (entry?.ipv4 !== undefined) expect(leadingIPv4(text), `case ${i}: ${JSON.stringify(text)}`).toBe(entry.ipv4);
      });
      for (const name of ['web', 'dom1', 'web-2', '10.0.1.1']) {
        expect(entriesNamed(hosts, name), `case ${i}`).toEqual(hosts.entries.filter((e) => e.names.includes(name)));
      }
      for (const address of ['10.0.1.1', '10.0.2.1', '127.0.0.1']) {
        const ip = parseIPv4(address)!;
        expect(entriesAt(hosts, ip), `case ${i}`).toEqual(hosts.entries.filter((e) => e.ipv4 === ip));
      }
      for (const prefix of ['10.', '10.0.', '']) {
        const everyLine = hosts.lines.map((text) => leadingIPv4(text)).filter((ip): ip is number => ip !== undefined && formatIPv4(ip).startsWith(prefix));
        const scanned: number[] = [];
        forEachLeadingAddress(hosts, prefix, (ip) => scanned.push(ip));
        expect(scanned, `case ${i} prefix ${prefix}`).toEqual(everyLine);
      }
    }
  });

  it(`online and offline plans keep every line they do not own (replay with VND_SEED=${r.seed})`, () => {
    for (let i = 0; i < CASES; i++) {
      const hostsText = randomText(r);
      const ethersText = randomText(r);
      const hosts = parseHosts(hostsText);
      const ethers = parseEthers(ethersText);
      const mac = r.pick(['00:16:3e:00:00:01', '00:16:3e:00:00:02']);
      const liveness = { ownDevice: 'vif1.0', devicesByAddress: new Map<string, string[]>() };
      let plan;
      try {
        const result = planOnline(scheme, hosts, ethers, { domainName: r.pick(['web', 'dom1', 'Web']), y: r.int(1, 2), mac }, liveness);
        plan = result.kind === 'plan' ? result.plan : undefined;
      } catch {
        continue; // refused (e.g. a name outside the scheme): refusing changes nothing
      }
      if (!plan) continue;
      // every original hosts line survives, in order, byte for byte; only whole lines are appended
      const prefix = hostsText === '' || hostsText.endsWith('\n') ? hostsText : `${hostsText}\n`;
      const expected = plan.addedHostsLines.length ? prefix + plan.addedHostsLines.map((l) => `${l}\n`).join('') : hostsText;
      expect(renderHosts(plan.hosts), `case ${i}: ${JSON.stringify(hostsText)}`).toBe(expected);
      const kept = [...parseEthers(ethersText).lines].filter((t) => !plan.removedEthersLines.includes(t));
      const after = [...plan.ethers.lines];
      for (const text of kept) expect(after, `case ${i}`).toContain(text);
      const off = planOffline(scheme, plan.hosts, plan.ethers, { domainName: 'web', y: 1, mac }, liveness);
      expect(off.ethers.lines.length, `case ${i}`).toBe(plan.ethers.lines.length - off.removedEthersLines.length);
    }
  });
});
