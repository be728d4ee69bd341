// The benchmark's small statistics: percentiles, and the paired ratio that a drifting machine speed cancels out of.
import { describe, expect, it } from 'vitest';
import { median, medianInterval, pairedRatio, pairedRatioInterval, percentile, verdict } from '../../bench/stats';

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

describe('medianInterval', () => {
  const ranks = (n: number) => Array.from({ length: n }, (_, i) => n - i); // n..1, unsorted on purpose
  it.each([
    // n, 1-based ranks of the interval: n/2 -+ 1.96*sqrt(n)/2 (floor, ceil of 1 + ...)
    [60, 22, 39],
    [10, 1, 10],
    [100, 40, 61],
    [1, 1, 1],
  ])('%i values -> ranks %i..%i', (n, low, high) => {
    expect(medianInterval(ranks(n))).toEqual({ low, high });
  });

  it('is empty for no values', () => {
    expect(medianInterval([])).toEqual({ low: NaN, high: NaN });
  });

  it('narrows as the rounds agree: identical ratios give a point', () => {
    expect(pairedRatioInterval([4, 6, 8, 10], [2, 3, 4, 5])).toEqual({ ratio: 2, low: 2, high: 2 });
  });
});

describe('verdict', () => {
  it.each([
    [{ low: 1.8, high: 1.95 }, 'met'],
    [{ low: 1.9, high: 2 }, 'met'],
    [{ low: 1.95, high: 2.05 }, 'not decided by this run'],
    [{ low: 2.01, high: 2.2 }, 'not met'],
  ])('%j against 2 -> %s', (interval, expected) => {
    expect(verdict(interval, 2)).toBe(expected);
  });
});
