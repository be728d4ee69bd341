// The benchmark's small statistics: percentiles, and the paired ratio that a drifting machine speed cancels out of.
import { describe, expect, it } from 'vitest';
import { median, pairedRatio, percentile } from '../../bench/stats';

describe('percentile and median', () => {
  it.each([
    [[3, 1, 2], 50, 2],
    [[4, 1, 3, 2], 50, 2],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9],
    [[], 50, NaN],
  ])('%j at %i -> %d', (values, p, expected) => {
    expect(percentile(values, p)).toEqual(expected);
  });
});

describe('pairedRatio', () => {
  it('a machine that slows down half-way: each round\'s ratio, and so their median, stays 2', () => {
    const bare = [20, 21, 20, 22, 20, 31, 30, 33, 30, 36];
    expect(pairedRatio(bare.map((ms) => 2 * ms), bare)).toBe(2);
  });

  it('takes the median of the ratios: one disturbed round does not move it', () => {
    expect(pairedRatio([40, 44, 200, 42, 46], [20, 22, 20, 21, 23])).toBe(2);
  });

  it('refuses samples that are not pairs', () => {
    expect(() => pairedRatio([1, 2], [1])).toThrow(/different lengths/);
  });
});
