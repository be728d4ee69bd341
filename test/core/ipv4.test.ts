import { describe, expect, it } from 'vitest';
import { formatIPv4, isStrictIPv4, parseIPv4 } from '../../src/core/ipv4';

describe('strict IPv4', () => {
  it.each(['10.0.1.1', '0.0.0.0', '255.255.255.255'])('accepts %s', (text) => {
    expect(isStrictIPv4(text)).toBe(true);
    expect(formatIPv4(parseIPv4(text)!)).toBe(text);
  });
  it.each(['10', '010.1.1.1', '10.0.1', '10.0.1.256', '0x0a.0.0.1', ' 10.0.1.1', '10.0.1.1 ', '10.0.1.1/32', '1e1.0.0.1', '::1'])('refuses %j', (text) => {
    expect(isStrictIPv4(text)).toBe(false);
    expect(parseIPv4(text)).toBeUndefined();
  });
});
