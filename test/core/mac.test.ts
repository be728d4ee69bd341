import { describe, expect, it } from 'vitest';
import { normalizeMac, parseGuestMac } from '../../src/core/mac';

describe('MACs', () => {
  it.each([
    ['00:16:3e:00:00:01', '00:16:3e:00:00:01'],
    ['00:16:3E:0A:BB:CC', '00:16:3e:0a:bb:cc'],
  ])('accepts guest MAC %s', (text, mac) => expect(parseGuestMac(text)).toBe(mac));

  it.each([
    [undefined, /no MAC/], ['', /no MAC/], ['00:16:3e:00:00', /six/], ['00-16-3e-00-00-01', /six/], ['0:16:3e:0:0:1', /six/],
    ['00:16:3e:00:00:01\n', /six/], ['00:00:00:00:00:00', /all zeros/], ['01:00:5e:00:00:01', /multicast/], ['ff:ff:ff:ff:ff:ff', /multicast/],
  ])('refuses %j', (text, error) => expect(() => parseGuestMac(text)).toThrow(error));

  it.each([
    ['8:0:20:1:2:3', '08:00:20:01:02:03'], ['08-00-20-01-02-03', '08:00:20:01:02:03'], ['pluto', undefined], ['00:16:3e:00:00:001', undefined],
  ])('normalises ethers MAC %s', (text, mac) => expect(normalizeMac(text)).toBe(mac));
});
