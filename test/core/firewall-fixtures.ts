// A firewall as two onlines leave it, for the doctor's tests.
import type { FirewallInput } from '../../src/core/firewall-check';
import type { FirewallPolicy, RuleState } from '../../src/core/firewall-rules';
import { planAddVif } from '../../src/core/plan-firewall';
import { emptyState, restore } from './iptables-sim';

const policy: FirewallPolicy = { group: 4646, isolate: false, dom0Services: [] };
export const web = { device: 'vif7.0', vmIp: '10.0.1.1' };
export const db = { device: 'vif8.0', vmIp: '10.0.2.1' };

/** The state after both vifs' onlines. */
export function healthyFirewall(): FirewallInput {
  let state: RuleState = emptyState();
  for (const vif of [web, db]) state = restore(state, planAddVif(state, policy, vif).batch);
  return { state, policy, running: [web, db], groups: new Map([['eth0', 0], ['vif7.0', 4646], ['vif8.0', 4646]]), kernelFiltered: new Set(), loosened: new Set(), kernelAllowed: true, rpFilterOverrides: [] };
}
