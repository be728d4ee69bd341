import { describe, expect, it } from 'vitest';
import { allocate, lowestFreeMachine, usedMachines } from '../../src/core/allocation';
import { parseHosts } from '../../src/core/hosts-file';
import { parseEthers } from '../../src/core/ethers-file';
import { parseScheme } from '../../src/core/scheme';

const scheme = parseScheme('10.0.0.0/8');
const none = parseEthers('');

describe('allocate', () => {
  it.each([
    ['first guest on an empty file', '', { domainName: 'web', y: 1 }, '10.0.1.1', ['10.0.1.1\tweb']],
    ['recorded name keeps its address', '10.0.9.1 web\n', { domainName: 'web', y: 1 }, '10.0.9.1', []],
    ['recorded name, any case', '10.0.9.1 WEB\n', { domainName: 'Web', y: 1 }, '10.0.9.1', []],
    ['lowest free machine number skips used ones', '10.0.1.1 a\n10.0.2.5 b-5\n10.0.4.1 c\n', { domainName: 'web', y: 1 }, '10.0.3.1', ['10.0.3.1\tweb']],
    ['dom1 never matches dom10', '10.0.1.1 dom10\n', { domainName: 'dom1', y: 1 }, '10.0.2.1', ['10.0.2.1\tdom1']],
    ['second interface shares the machine number', '10.0.5.1 web\n', { domainName: 'web', y: 2 }, '10.0.5.2', ['10.0.5.2\tweb-2']],
    ['second interface first reserves the machine under the base name', '', { domainName: 'web', y: 3 }, '10.0.1.3', ['10.0.1.1\tweb', '10.0.1.3\tweb-3']],
    ['pinned ip is used and recorded', '', { domainName: 'web', y: 1, pinnedIp: '10.0.77.1' }, '10.0.77.1', ['10.0.77.1\tweb']],
    ['pinned ip equal to the recorded one', '10.0.77.1 web\n', { domainName: 'web', y: 1, pinnedIp: '10.0.77.1' }, '10.0.77.1', []],
    ['ethers-only managed addresses count as used', '', { domainName: 'web', y: 1 }, '10.0.1.1', ['10.0.1.1\tweb']],
    ['comment and IPv6 lines are not entries', '#10.0.1.1 web\n::1 web6\n', { domainName: 'web', y: 1 }, '10.0.1.1', ['10.0.1.1\tweb']],
  ])('%s', (_, hostsText, request, vmIp, lines) => {
    const result = allocate(scheme, parseHosts(hostsText), none, request);
    expect(result.vmIp).toBe(vmIp);
    expect(result.newHostsLines).toEqual(lines);
    expect(result.dom0Ip).toBe(vmIp.replace(/\.(\d+)$/, (_m, y) => `.${Number(y) | 128}`));
  });

  it('machine numbers bound only in /etc/ethers are not handed out again', () => {
    const result = allocate(scheme, parseHosts(''), parseEthers('00:16:3e:00:00:01 10.0.1.1\n'), { domainName: 'web', y: 1 });
    expect(result.vmIp).toBe('10.0.2.1');
  });

  it.each([
    ['name recorded outside the scheme', '192.168.1.5 web\n', { domainName: 'web', y: 1 }, /outside the managed network/],
    ['name recorded at another interface number', '10.0.5.2 web-2\n', { domainName: 'web-2', y: 1 }, /interface 2's address/],
    ['base name is another machine\'s 2nd interface', '10.0.5.2 web-2\n', { domainName: 'web-2', y: 2 }, /no machine number to share/],
    ['pinned ip differs from the recorded one', '10.0.9.1 web\n', { domainName: 'web', y: 1, pinnedIp: '10.0.8.1' }, /recorded at 10.0.9.1/],
    ['pinned ip outside the scheme', '', { domainName: 'web', y: 1, pinnedIp: '192.168.0.1' }, /not a VM address/],
    ['pinned ip on the dom0 side', '', { domainName: 'web', y: 1, pinnedIp: '10.0.1.129' }, /not a VM address/],
    ['pinned ip recorded for another name', '10.0.7.1 db\n', { domainName: 'web', y: 1, pinnedIp: '10.0.7.1' }, /already recorded in \/etc\/hosts for db/],
    ['address of a new 2nd interface taken by another name', '10.0.5.1 web\n10.0.5.2 other\n', { domainName: 'web', y: 2 }, /for other/],
  ])('refuses: %s', (_, hostsText, request, error) => {
    expect(() => allocate(scheme, parseHosts(hostsText), none, request)).toThrow(error);
  });

  it('says clearly when every machine number is taken', () => {
    const small = parseScheme('10.198.0.0/16');
    const full = Array.from({ length: 255 }, (_, i) => `10.198.${i + 1}.1 g${i}`).join('\n');
    expect(() => allocate(small, parseHosts(full), none, { domainName: 'web', y: 1 })).toThrow(/all 255 machine numbers of 10.198.0.0\/16 are taken/);
    const used = new Uint8Array(256);
    [1, 2, 4].forEach((machine) => { used[machine] = 1; });
    expect(lowestFreeMachine(small, used)).toBe(3);
  });

  it.each([[0, 3], [1, 5], [2, 6], [1000, 255]])('lowestFreeMachine skipping %d free numbers takes %d (never past the last free one)', (skip, expected) => {
    const small = parseScheme('10.198.0.0/16');
    const used = new Uint8Array(256);
    [1, 2, 4].forEach((machine) => { used[machine] = 1; });
    expect(lowestFreeMachine(small, used, skip)).toBe(expected);
  });

  it.each([
    ['entries, address-only lines and ethers bindings count', '10.0.1.1 a\n10.0.2.5 # reserved\n', '00:16:3e:00:00:01 10.0.3.1\n', [1, 2, 3]],
    ['dom0 sides count, lines outside the network and y=0 do not', '10.0.4.129 a\n10.1.0.1 b\n192.168.5.1 c\n10.0.6.0 d\n', '', [4, 256]],
    ['blank-led lines count, NUL lines and leading zeros do not', '\t 10.0.7.1 a\n10.0.8.1 b\0\n10.0.09.1 c\n', '', [7]],
  ])('usedMachines: %s', (_, hostsText, ethersText, machines) => {
    const used = usedMachines(scheme, parseHosts(hostsText), parseEthers(ethersText));
    expect([...used.keys()].filter((machine) => used[machine] === 1)).toEqual(machines);
  });
});
