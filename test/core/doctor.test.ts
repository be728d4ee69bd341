import { describe, expect, it } from 'vitest';
import { doctor, rangeCovers, type DoctorInput } from '../../src/core/doctor';
import { parseScheme } from '../../src/core/scheme';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { healthyFirewall } from './firewall-fixtures';

const scheme = parseScheme('10.0.0.0/8');
const template = readFileSync(join(__dirname, '..', '..', 'templates', 'dnsmasq.conf'), 'utf8').split('\n');
const healthy: DoctorInput = {
  scheme, hosts: '10.0.1.1\tweb\n', ethers: '00:16:3e:00:00:01 10.0.1.1\n',
  dnsmasq: { running: true, detail: 'dnsmasq is running' }, dnsmasqConfig: { sources: ['vif-nat-dns.conf'], lines: template },
  ipForward: '1\n', masquerade: { rules: '-A POSTROUTING -s 10.0.0.0/8 -o eth0 -j MASQUERADE\n', uplink: 'eth0' },
  bootMarker: 'masquerade 10.0.0.0/8 eth0\n', lock: { journal: false }, firewall: healthyFirewall(), dnsDomain: 'xen.internal',
};
const problems = (input: DoctorInput) => doctor(input).filter((f) => f.level !== 'ok').map((f) => f.message);

describe('doctor', () => {
  it('the boot step undone (its MASQUERADE rule flushed) is an error: hooks trust it and will not add the rule back', () => {
    const found = doctor({ ...healthy, masquerade: { rules: '', uplink: 'eth0' } }).filter((f) => f.level === 'error');
    expect(found.map((f) => f.message)).toEqual([expect.stringMatching(/network-nat-dns start put the MASQUERADE rule for 10\.0\.0\.0\/8 -> eth0 in place, but it is gone/)]);
    expect(found[0]!.fix).toMatch(/run network-nat-dns start again/);
  });

  it('finds nothing wrong with the shipped template and consistent files', () => {
    expect(problems(healthy)).toEqual([]);
  });

  it.each([
    ['dnsmasq down', { dnsmasq: { running: false, detail: 'dnsmasq is not running: no pid file' } }, /not running/],
    ['no read-ethers', { dnsmasqConfig: { sources: ['x'], lines: template.filter((l) => l !== 'read-ethers') } }, /does not read \/etc\/ethers/],
    ['no-hosts', { dnsmasqConfig: { sources: ['x'], lines: [...template, 'no-hosts'] } }, /ignores \/etc\/hosts/],
    ['no covering range', { dnsmasqConfig: { sources: ['x'], lines: template.map((l) => l.replace('255.0.0.0', '255.255.0.0')) } }, /no dhcp-range covers/],
    ['forwarding off', { ipForward: '0' }, /forwarding is off/],
    ['no MASQUERADE (no boot step either)', { masquerade: { rules: '', uplink: 'eth0' }, bootMarker: undefined }, /no MASQUERADE rule/],
    ['duplicate MAC', { ethers: '00:16:3e:00:00:01 10.0.1.1\n00:16:3e:00:00:01 10.0.2.1\n' }, /appears more than once/],
    ['address bound twice', { ethers: '00:16:3e:00:00:01 10.0.1.1\n00:16:3e:00:00:02 10.0.1.1\n' }, /bound to several MACs/],
    ['name twice', { hosts: '10.0.1.1 web\n10.0.2.1 web\n' }, /several managed addresses/],
    ['entry inside the network but outside the scheme', { hosts: '10.0.1.1 web\n10.0.0.5 router\n' }, /not a guest address/],
    ['binding without a name', { hosts: '' }, /has no name in \/etc\/hosts/],
    ['published domain not served', { dnsDomain: 'lab.example' }, /told their domain is lab\.example \(DNS_DOMAIN\) but dnsmasq serves xen\.internal/],
    ['no domain= at all', { dnsmasqConfig: { sources: ['x'], lines: template.filter((l) => !l.startsWith('domain=')) } }, /but dnsmasq serves no domain=/],
    ['lock whose holder is gone', { lock: { held: { ageMs: 60_000, holderPid: 77, verdict: 'abandoned' }, journal: false } }, /holder \(pid 77\) is gone: a hook was killed holding it/],
    ['firewall unreadable', { firewall: undefined }, /cannot read the firewall/],
    ['boot step never ran: hooks check the rule themselves', { bootMarker: undefined }, /network-nat-dns start has not run since boot/],
    ['boot step ran for another uplink', { bootMarker: 'masquerade 10.0.0.0/8 eth1\n' }, /network-nat-dns start has not run since boot/],
  ])('%s', (_, change, message) => {
    const found = problems({ ...healthy, ...change } as DoctorInput);
    expect(found.some((m) => message.test(m))).toBe(true);
  });

  it.each([
    ['10.0.0.0,static,255.0.0.0,infinite', true],
    ['tag:x,10.0.0.0,static,255.0.0.0', true],
    ['10.0.0.0,static,255.255.0.0', false],
    ['192.168.0.10,192.168.0.50,12h', false],
    ['10.0.0.0,10.255.255.254,255.0.0.0,12h', true],
  ])('dhcp-range=%s covers 10.0.0.0/8: %s', (range, covers) => expect(rangeCovers(scheme, range)).toBe(covers));
});
