import { describe, expect, it } from 'vitest';
import { HANDOVER_ROUTE_METRIC, onlineRouteMetric, routeSuccessor } from '../../src/core/handover';

describe('onlineRouteMetric', () => {
  it.each([
    ['a plain vif', { typeIf: 'vif', tapRouteMetric: 10 }, undefined],
    ['an emulated NIC', { typeIf: 'tap', tapRouteMetric: 10 }, 10],
    ['an emulated NIC of an incoming domain keeps the tap metric', { typeIf: 'tap', tapRouteMetric: 10, role: 'incoming', otherHolder: 'vif1.0' }, 10],
    ['an incoming vif while the sender\'s vif holds the address', { typeIf: 'vif', tapRouteMetric: 10, role: 'incoming', otherHolder: 'vif1.0' }, HANDOVER_ROUTE_METRIC],
    ['an incoming vif with no sender on this host (migration from another host)', { typeIf: 'vif', tapRouteMetric: 10, role: 'incoming' }, undefined],
    ['a vif of a domain being migrated away never comes online, but if it did it routes normally', { typeIf: 'vif', tapRouteMetric: 10, role: 'migratedaway', otherHolder: 'vif2.0' }, undefined],
    ['another holder without a migration name (restart over a lingering vif) routes normally', { typeIf: 'vif', tapRouteMetric: 10, otherHolder: 'vif1.0' }, undefined],
  ] as const)('%s', (_, input, expected) => {
    expect(onlineRouteMetric(input)).toBe(expected);
  });
});

describe('routeSuccessor', () => {
  it.each([
    ['no other holder', 'vif', undefined, undefined],
    ['the other end of a hand-over', 'vif', 'vif2.0', 'vif2.0'],
    ['a renamed vif (vifname=)', 'vif', 'web0', 'web0'],
    ['never an emulated NIC', 'vif', 'vif2.0-emu', undefined],
    ['a tap removal hands nothing over', 'tap', 'vif2.0', undefined],
  ] as const)('%s', (_, typeIf, other, expected) => {
    expect(routeSuccessor(typeIf, other)).toBe(expected);
  });
});
