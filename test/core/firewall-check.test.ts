import { describe, expect, it } from 'vitest';
import { checkFirewall, type FirewallInput } from '../../src/core/firewall-check';
import { emptyState, restore } from './iptables-sim';
import { db, healthyFirewall, web } from './firewall-fixtures';

const edit = (input: FirewallInput, table: string, chain: string, change: (rules: string[]) => void): FirewallInput => {
  const state = restore(input.state, ''); // a copy
  const rules = state.get(table)!.get(chain) as string[] | undefined;
  if (rules) change(rules); else state.get(table)!.delete(chain);
  return { ...input, state };
};
const dropChain = (input: FirewallInput, table: string, chain: string): FirewallInput => {
  const state = restore(input.state, '');
  state.get(table)!.delete(chain);
  return { ...input, state };
};
const found = (input: FirewallInput) => checkFirewall(input).map((f) => `${f.level}: ${f.message}`);
const goto = (device: string) => `-i ${device} -g VND-SRC-${device}`;
const withoutDispatch = (device: string) => (rules: string[]) => { rules.splice(rules.indexOf(goto(device)), 1); };

describe('doctor: firewall', () => {
  it('all in place: one ok line', () => {
    expect(found(healthyFirewall())).toEqual(['ok: firewall: 2 vif(s) anti-spoofed, dom0 closed to guests, forwarding through VND-FORWARD']);
  });

  it.each<[string, (i: FirewallInput) => FirewallInput, RegExp]>([
    ['no FORWARD jump', (i) => edit(i, 'filter', 'FORWARD', (r) => { r.length = 0; }), /^error: no jump from filter FORWARD to VND-FORWARD: guests depend on the host's FORWARD policy$/],
    ['no INPUT jump', (i) => edit(i, 'filter', 'INPUT', (r) => { r.length = 0; }), /^error: no jump from filter INPUT to VND-INPUT: guests reach every dom0 service$/],
    ['INPUT jump twice', (i) => edit(i, 'filter', 'INPUT', (r) => { r.push('-j VND-INPUT'); }), /^warn: filter INPUT jumps to VND-INPUT 2 times$/],
    ['shared chain edited', (i) => edit(i, 'filter', 'VND-INPUT', (r) => { r.pop(); }), /^error: firewall chain filter VND-INPUT differs from the configuration/],
    ['shared chain flushed', (i) => edit(i, 'filter', 'VND-FORWARD', (r) => { r.length = 0; }), /^error: firewall chain filter VND-FORWARD is empty \(flushed\?\): guests depend on the host's FORWARD policy$/],
    ['shared chain missing', (i) => dropChain(i, 'raw', 'VND-ANTISPOOF'), /^error: firewall chain raw VND-ANTISPOOF is missing: guests whose vif has no chain of its own can send from any address the kernel lets through$/],
    ['ANTISPOOF\'s tail flushed, the vifs\' dispatch rules left', (i) => edit(i, 'raw', 'VND-ANTISPOOF', (r) => { r.splice(2); }), /^error: firewall chain raw VND-ANTISPOOF is empty \(flushed\?\)/],
    ['ANTISPOOF\'s rpfilter rule deleted', (i) => edit(i, 'raw', 'VND-ANTISPOOF', (r) => { r.pop(); }), /^error: firewall chain raw VND-ANTISPOOF differs from the configuration/],
    ['a dispatch rule after the tail', (i) => edit(i, 'raw', 'VND-ANTISPOOF', (r) => { withoutDispatch('vif7.0')(r); r.push(goto('vif7.0')); }), /^error: firewall chain raw VND-ANTISPOOF has a vif's dispatch rule after its own rules/],
    ['vif chain missing', (i) => dropChain(i, 'raw', 'VND-SRC-vif7.0'), /^error: vif7.0 \(10.0.1.1\) has no anti-spoofing rules/],
    ['dispatch missing', (i) => edit(i, 'raw', 'VND-ANTISPOOF', withoutDispatch('vif7.0')), /^error: vif7.0 \(10.0.1.1\) has no anti-spoofing rules/],
    ['dispatch twice', (i) => edit(i, 'raw', 'VND-ANTISPOOF', (r) => { r.unshift(goto('vif8.0')); }), /^warn: vif8.0's anti-spoofing chain is jumped to 2 times$/],
    ['an older version\'s dispatch (a jump)', (i) => edit(i, 'raw', 'VND-ANTISPOOF', (r) => { r[r.indexOf(goto('vif8.0'))] = '-i vif8.0 -j VND-SRC-vif8.0'; }), /^warn: vif8.0's chain is jumped to \(-j\), as versions before the shared rpfilter rule did/],
    ['chain for another address', (i) => ({ ...i, running: [web, { ...db, vmIp: '10.0.2.2' }] }), /^error: vif8.0's anti-spoofing rules are stale: they are not the ones for 10.0.2.2$/],
    ['device out of the group', (i) => ({ ...i, groups: new Map([['vif7.0', 4646], ['vif8.0', 0]]) }), /^error: vif8.0 is in device group 0, not 4646/],
    ['device gone, chain left', (i) => ({ ...i, running: [web], groups: new Map([['vif7.0', 4646]]) }), /^warn: stale anti-spoofing rules for vif8.0, which no longer exists$/],
    ['device without address, chain left', (i) => ({ ...i, running: [web] }), /^warn: anti-spoofing rules for vif8.0, which carries no guest address/],
  ])('%s', (_, change, message) => {
    const findings = found(change(healthyFirewall()));
    expect(findings.some((f) => message.test(f))).toBe(true);
    expect(findings.some((f) => f.startsWith('ok'))).toBe(false);
  });

  it('a vif the kernel filters needs no chain; one it still has is named; a vif whose filter is loose needs its chain', () => {
    const kernelOnly = edit(dropChain(healthyFirewall(), 'raw', 'VND-SRC-vif7.0'), 'raw', 'VND-ANTISPOOF', withoutDispatch('vif7.0'));
    expect(found({ ...kernelOnly, kernelFiltered: new Set(['vif7.0']) })).toEqual([
      'ok: firewall: 2 vif(s) anti-spoofed (1 by the kernel\'s reverse-path filter, 1 by their chains), dom0 closed to guests, forwarding through VND-FORWARD']);
    expect(found({ ...healthyFirewall(), kernelFiltered: new Set(['vif7.0']) })).toEqual([
      'warn: vif7.0 is checked by the kernel\'s reverse-path filter but still has a chain VND-SRC-vif7.0 (left from before): it drops its guest\'s packets if it names another address']);
    expect(found(kernelOnly)).toEqual([expect.stringMatching(/^error: vif7.0 \(10.0.1.1\) has no anti-spoofing rules: its guest can send from any address$/)]);
    // rp_filter=1 but all=2: the shared rpfilter rule still checks it; said, not failed (regen-firewall gives it a chain)
    expect(found({ ...kernelOnly, loosened: new Set(['vif7.0']) })).toEqual([
      'warn: vif7.0 (10.0.1.1) has no chain and net.ipv4.conf.all.rp_filter=2 makes its rp_filter=1 loose: only VND-ANTISPOOF\'s rpfilter rule checks its sources (nothing would after a flush of the raw table)']);
    const noTail = edit(kernelOnly, 'raw', 'VND-ANTISPOOF', (r) => { r.pop(); });
    expect(found({ ...noTail, loosened: new Set(['vif7.0']) })).toContain('error: vif7.0 (10.0.1.1) has no anti-spoofing rules: its guest can send from any address');
    // hooks give new vifs chains (a sysctl pattern would reset their rp_filter): a chain beside a strict filter is expected, and why is said
    const overridden = { ...healthyFirewall(), kernelFiltered: new Set(['vif7.0']), kernelAllowed: false, rpFilterOverrides: ['/usr/lib/sysctl.d/50-default.conf:22: net.ipv4.conf.*.rp_filter = 2'] };
    expect(found(overridden)).toEqual([
      'warn: new vifs get chains of their own, not the kernel\'s check (KERNEL_ANTISPOOF=yes): /usr/lib/sysctl.d/50-default.conf:22: net.ipv4.conf.*.rp_filter = 2 would reset their rp_filter after their online',
      'ok: firewall: 2 vif(s) anti-spoofed (1 by the kernel\'s reverse-path filter, 1 by their chains), dom0 closed to guests, forwarding through VND-FORWARD']);
  });

  it('before the first online (no vif running) missing chains are a warning: the first online creates them', () => {
    const fresh = { ...healthyFirewall(), state: emptyState(), running: [], groups: new Map([['eth0', 0]]) };
    const findings = checkFirewall(fresh);
    expect(findings.map((f) => `${f.level}: ${f.message}`)).toEqual([
      'warn: firewall chain raw VND-ANTISPOOF is not there yet', 'warn: firewall chain filter VND-FORWARD is not there yet', 'warn: firewall chain filter VND-INPUT is not there yet',
    ]);
    expect(findings[0]!.fix).toBe('the first online creates it; or network-nat-dns start');
  });

  it('every problem names its fix', () => {
    const findings = checkFirewall(dropChain(healthyFirewall(), 'raw', 'VND-SRC-vif7.0'));
    expect(findings.every((f) => f.fix !== undefined)).toBe(true);
    expect(findings[0]!.fix).toBe('vif-nat-dns-admin regen-firewall');
  });
});
