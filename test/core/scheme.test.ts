import { describe, expect, it } from 'vitest';
import { decode, dom0Address, maxMachine, parseScheme, textPrefix, vmAddress } from '../../src/core/scheme';

describe('parseScheme', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8', 65535],
    ['10.198.0.0/16', '10.198.0.0/16', 255],
    [' 172.16.0.0/12 ', '172.16.0.0/12', 4095],
  ])('%s -> %s with %i machine numbers', (text, normalised, max) => {
    const scheme = parseScheme(text);
    expect(scheme.text).toBe(normalised);
    expect(maxMachine(scheme)).toBe(max);
  });

  it.each(['10.0.0.0', '10.0.0.0/7', '10.0.0.0/24', '10.1.0.0/8', '010.0.0.0/8', '10/8', '10.0.0.0/x'])('refuses %s', (text) => {
    expect(() => parseScheme(text)).toThrow(/managed network/);
  });
});

describe('addresses', () => {
  const slash8 = parseScheme('10.0.0.0/8');
  const slash16 = parseScheme('10.198.0.0/16');
  it.each([
    [slash8, 1, 1, '10.0.1.1', '10.0.1.129'],
    [slash8, 258, 2, '10.1.2.2', '10.1.2.130'],
    [slash8, 65535, 127, '10.255.255.127', '10.255.255.255'],
    [slash16, 5, 3, '10.198.5.3', '10.198.5.131'],
  ])('machine %i interface %i', (scheme, machine, y, vm, dom0) => {
    expect(vmAddress(scheme, machine, y)).toBe(vm);
    expect(dom0Address(scheme, machine, y)).toBe(dom0);
    expect(decode(scheme, vm)).toEqual({ machine, y, side: 'vm' });
    expect(decode(scheme, dom0)).toEqual({ machine, y, side: 'dom0' });
  });

  it.each([
    [slash8, 0, 1], [slash8, 65536, 1], [slash8, 1, 0], [slash8, 1, 128], [slash16, 256, 1],
  ])('refuses machine %i interface %i', (scheme, machine, y) => {
    expect(() => vmAddress(scheme, machine, y)).toThrow(RangeError);
  });

  it.each(['10.0.0.5', '10.0.1.0', '10.0.1.128', '11.0.1.1', '10.0.1', '10.0.01.1', 'web'])('%s is not a scheme address', (ip) => {
    expect(decode(slash8, ip)).toBeUndefined();
  });
});

describe('textPrefix', () => {
  it.each([['10.0.0.0/8', '10.'], ['10.198.0.0/16', '10.198.'], ['172.16.0.0/12', '172.'], ['10.0.0.0/20', '10.0.']])('%s -> %s', (cidr, prefix) => {
    expect(textPrefix(parseScheme(cidr))).toBe(prefix);
  });
});
