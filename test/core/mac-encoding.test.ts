import { describe, expect, it } from 'vitest';
import { ipToMac, macToIp } from '../../src/core/mac-encoding';

describe('IP-in-MAC encoding', () => {
  it.each([
    ['10.1.1.3', '00:16:3e:01:01:03'],
    ['10.0.1.1', '00:16:3e:00:01:01'],
    ['10.255.255.127', '00:16:3e:ff:ff:7f'],
  ])('%s <-> %s', (ip, mac) => {
    expect(ipToMac(ip)).toBe(mac);
    expect(macToIp(mac)).toBe(ip);
    expect(macToIp(mac.toUpperCase())).toBe(ip);
  });
  it('uses another prefix on request and refuses multicast ones', () => {
    expect(ipToMac('10.0.1.1', '02:00:00')).toBe('02:00:00:00:01:01');
    expect(macToIp('02:00:00:00:01:01', 10, '02:00:00')).toBe('10.0.1.1');
    expect(() => ipToMac('10.0.1.1', '01:00:5e')).toThrow(/multicast/);
  });
  it.each(['00:16:3f:01:01:03', 'web', '00:16:3e:01:01'])('refuses MAC %j', (mac) => expect(() => macToIp(mac)).toThrow(/not a MAC in 00:16:3e/));
  it.each(['10', '010.1.1.3', '10.1.1'])('refuses address %j', (ip) => expect(() => ipToMac(ip)).toThrow(/not an IPv4 address/));
});
