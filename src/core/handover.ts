// Migration hand-over on one host: while xl moves a guest its address is up on two vifs; which vif routes it is decided here.
import type { MigrationRole } from './hostname';

/**
 * Metric of the receiving vif's host route while the sender still runs. xl brings the receiver's vifs online long before the
 * guest runs there (the memory is still being copied), so the sender's route (metric 0) keeps the traffic until the sender's
 * offline hands the route over; if the migration fails instead, the receiver's offline drops only its own, unused route.
 */
export const HANDOVER_ROUTE_METRIC = 32;

export interface RouteMetricInput {
  readonly typeIf: 'vif' | 'tap';
  readonly tapRouteMetric: number;
  readonly role?: MigrationRole; // from the domain's name (migrationName)
  readonly otherHolder?: string; // another live vif holding this guest's address
}

/** The metric of the host route an online installs: none for a vif, the tap metric for an emulated NIC, the hand-over metric for an incoming migration. */
export function onlineRouteMetric(input: RouteMetricInput): number | undefined {
  if (input.typeIf === 'tap') return input.tapRouteMetric;
  if (input.role === 'incoming' && input.otherHolder !== undefined) return HANDOVER_ROUTE_METRIC;
  return undefined;
}

/**
 * The device that carries the guest's route once this vif is gone: the other live vif holding the same address (the other end
 * of a hand-over: the receiver after a migration, the sender again after a failed one). An emulated NIC (`-emu`) never takes
 * over a PV vif's route, and a tap's removal hands nothing over.
 */
export function routeSuccessor(typeIf: 'vif' | 'tap', otherHolder: string | undefined): string | undefined {
  if (typeIf !== 'vif' || otherHolder === undefined || otherHolder.endsWith('-emu')) return undefined;
  return otherHolder;
}
