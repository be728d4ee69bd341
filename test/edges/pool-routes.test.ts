import { describe, expect, it } from 'vitest';
import { parsePoolRoutes, poolRouteBatch } from '../../src/edges/pool-routes';

describe('pool routes', () => {
  it('reads `ip -4 route show proto 98`, host routes only, next hop kept', () => {
    expect(parsePoolRoutes('10.0.2.1 via 192.168.77.12 dev pool0 metric 500 \n10.0.3.1/32 via 192.168.77.13 dev pool0 metric 500\n10.9.0.0/16 dev x\n\n'))
      .toEqual(new Map([['10.0.2.1', '192.168.77.12'], ['10.0.3.1', '192.168.77.13']]));
  });

  it('writes removals first, then replacements, each tagged with our protocol and metric', () => {
    expect(poolRouteBatch({ replace: [['10.0.2.1', '192.168.77.12']], remove: ['10.0.3.1'] })).toBe(
      'route del 10.0.3.1/32 proto 98 metric 500\nroute replace 10.0.2.1/32 via 192.168.77.12 proto 98 metric 500\n');
  });
});
