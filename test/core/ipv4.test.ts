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

describe('the fast scanner agrees with ipaddr.js', () => {
  it('on 200,000 random candidates', async () => {
    const ipaddr = (await import('ipaddr.js')).default;
    const { seededRandom } = await import('../harness/random');
    const r = seededRandom();
    const alphabet = ['0', '1', '2', '5', '9', '00', '25', '255', '256', '010', '.', '.', 'x', ' ', '-', '1e1', '0x1'];
    for (let i = 0; i < 200_000; i++) {
      let text = '';
      const n = r.int(1, 9);
      for (let j = 0; j < n; j++) text += r.pick(alphabet);
      const reference = ipaddr.IPv4.isValidFourPartDecimal(text) && text.split('.').every((p) => p === '0' || !p.startsWith('0'));
      expect(parseIPv4(text) !== undefined, `${JSON.stringify(text)} (seed ${r.seed})`).toBe(reference);
      if (reference) expect(formatIPv4(parseIPv4(text)!)).toBe(text);
    }
  }, 60_000); // a property check, not a timed test: a loaded machine may take several seconds
});
