import { describe, expect, it } from 'vitest';
import {
  bootStepCovers, firewallLine, kernelFilters, markerAllowsKernel, markerCoversFirewall, markerWithFirewall, onlineAntispoofMode, rpFilterOverrides,
  type OnlineModeInput,
} from '../../src/core/antispoof';
import type { FirewallPolicy } from '../../src/core/firewall-rules';

const policy: FirewallPolicy = { group: 4646, isolate: false, dom0Services: [] };
const withSsh: FirewallPolicy = { group: 4646, isolate: true, dom0Services: [{ protocol: 'tcp', ports: '22' }, { protocol: 'udp', ports: '6000:6010' }] };

describe('anti-spoofing mode', () => {
  it.each<[string | undefined, string | undefined, boolean]>([
    ['1', '0', true],
    ['1', '1', true],
    ['1\n', '0\n', true],
    ['1', '2', false], // all=2: the kernel applies max(all, device) = 2, loose
    ['0', '0', false],
    ['2', '0', false],
    [undefined, '0', false], // no such device
    ['1', undefined, false], // `all` unreadable: not known to be strict
  ])('device rp_filter %j with all=%j: kernel-filtered %s', (device, all, expected) => {
    expect(kernelFilters(device, all)).toBe(expected);
  });

  const base: OnlineModeInput = { allowed: true, typeIf: 'vif', repeated: false, deviceRpFilter: undefined, behindOtherVif: false, allRpFilter: '0', firewallInPlace: true };
  it.each<[string, Partial<OnlineModeInput>, 'kernel' | 'chain']>([
    ['a new PV vif after the boot step', {}, 'kernel'],
    ['all=1', { allRpFilter: '1' }, 'kernel'],
    ['KERNEL_ANTISPOOF=no', { allowed: false }, 'chain'],
    ['an emulated NIC (its route loses to the PV vif\'s)', { typeIf: 'tap' }, 'chain'],
    ['a migration\'s receiver behind the sender\'s route', { behindOtherVif: true }, 'chain'],
    ['a repeated online of a vif with a chain (rp_filter=0)', { repeated: true, deviceRpFilter: '0' }, 'chain'],
    ['a repeated online of a vif configured by an older version (rp_filter as the sysctl default left it)', { repeated: true, deviceRpFilter: '2' }, 'chain'],
    ['a repeated online of a vif the kernel checks: it stays so (no window without a check)', { repeated: true, deviceRpFilter: '1' }, 'kernel'],
    ['a repeated online of a vif the kernel checks, now KERNEL_ANTISPOOF=no', { repeated: true, deviceRpFilter: '1', allowed: false }, 'chain'],
    ['a repeated online of a vif the kernel checks, now all=2', { repeated: true, deviceRpFilter: '1', allRpFilter: '2' }, 'chain'],
    ['all=2 (loose everywhere)', { allRpFilter: '2' }, 'chain'],
    ['no boot step (the online creates the shared chains)', { firewallInPlace: false }, 'chain'],
  ])('%s: %s', (_, change, mode) => {
    expect(onlineAntispoofMode({ ...base, ...change })).toBe(mode);
  });
});

describe('boot marker', () => {
  it('names the policy the shared chains were built from', () => {
    expect(firewallLine(policy)).toBe('firewall group=4646 isolate=no services=- antispoof=rpfilter');
    expect(firewallLine(withSsh)).toBe('firewall group=4646 isolate=yes services=tcp/22,udp/6000:6010 antispoof=rpfilter');
  });

  it.each<[string | undefined, boolean, boolean]>([
    [undefined, false, false],
    ['', false, false],
    ['masquerade 10.0.0.0/8 eth0\n', true, false],
    ['masquerade 10.0.0.0/8 eth0\nfirewall group=4646 isolate=no services=- antispoof=rpfilter\n', true, true],
    ['firewall group=4646 isolate=no services=- antispoof=rpfilter\n', false, true],
    ['masquerade 10.0.0.0/8 eth0\nfirewall group=4646 isolate=no services=-\nkernel-antispoof\n', true, false], // an older version's: no rpfilter rule
    ['masquerade 10.0.0.0/8 eth1\nfirewall group=4646 isolate=yes services=-\n', false, false], // another uplink, another policy
    ['masquerade 10.0.0.0/8 eth0 extra\nfirewall group=46460 isolate=no services=-\n', false, false], // whole lines only
  ])('%j: masquerade covered %s, firewall covered %s', (marker, masquerade, firewall) => {
    expect(bootStepCovers(marker, '10.0.0.0/8', 'eth0')).toBe(masquerade);
    expect(markerCoversFirewall(marker, policy)).toBe(firewall);
  });

  it('regen-firewall replaces only its own lines; remove-firewall takes them out; nothing left is empty', () => {
    const booted = 'masquerade 10.0.0.0/8 eth0\n';
    const recorded = markerWithFirewall(booted, policy, true);
    expect(recorded).toBe('masquerade 10.0.0.0/8 eth0\nfirewall group=4646 isolate=no services=- antispoof=rpfilter\nkernel-antispoof\n');
    expect([markerCoversFirewall(recorded, policy), markerAllowsKernel(recorded), markerAllowsKernel(markerWithFirewall(booted, policy, false))]).toEqual([true, true, false]);
    expect(markerWithFirewall(recorded, policy, true)).toBe(recorded);
    expect(markerWithFirewall(recorded, withSsh, false)).toBe('masquerade 10.0.0.0/8 eth0\nfirewall group=4646 isolate=yes services=tcp/22,udp/6000:6010 antispoof=rpfilter\n');
    expect(markerWithFirewall(recorded, undefined, true)).toBe(booted);
    expect(markerWithFirewall(markerWithFirewall(undefined, policy, true), undefined, false)).toBe('');
    expect(markerWithFirewall(undefined, undefined, false)).toBe('');
  });
});

describe('sysctl configuration that would reset a new vif\'s rp_filter', () => {
  it.each<[string, boolean]>([
    ['net.ipv4.conf.*.rp_filter = 2', true], // systemd's 50-default.conf (Fedora, Arch; not Debian's package)
    ['net/ipv4/conf/*/rp_filter=1', true],
    ['-net.ipv4.conf.*.rp_filter = 2', true], // `-`: failures ignored, still a setting
    ['net.ipv4.conf.vif*.rp_filter = 0', true],
    ['net.ipv4.conf.vif1/0.rp_filter = 0', true],
    ['net.ipv4.conf.eth?.rp_filter = 2', true], // any pattern may match a vifname= device
    ['net.ipv4.conf.all.rp_filter = 2', false], // `all`: read by the hook itself
    ['net.ipv4.conf.default.rp_filter = 2', false], // applies before the hook runs, which sets its own value
    ['-net.ipv4.conf.all.rp_filter', false], // an exclusion, not a setting
    ['net.ipv4.conf.eth0.rp_filter = 1', false],
    ['# net.ipv4.conf.*.rp_filter = 2', false],
    ['net.ipv4.conf.*.proxy_arp = 1', false],
  ])('%j: %s', (line, overrides) => {
    expect(rpFilterOverrides([{ path: '/etc/sysctl.d/x.conf', text: `# a comment\n${line}\n` }])).toEqual(overrides ? [`/etc/sysctl.d/x.conf:2: ${line}`] : []);
  });
});
