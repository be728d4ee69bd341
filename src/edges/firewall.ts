// Applies firewall plans: one `iptables-restore -w --noflush` batch, planned from an `iptables-save` read unless a blind batch's guards hold; again from a fresh read if a guard failed.
import { VifError } from '../core/errors';
import { parseSave, type FirewallPolicy, type RuleState, type VifBinding } from '../core/firewall-rules';
import { blindAddVif, blindRemoveVif, planAddVif, planRemoveVif, planRestoreVif, type FirewallPlan } from '../core/plan-firewall';
import type { Exec } from './exec';

export type Serialise = <T>(fn: () => Promise<T>) => Promise<T>;

export interface Firewall {
  read(): Promise<RuleState>;
  /** Plan against a fresh read and apply; a plan that needs the lock is applied through `serialise` (omit it when the caller holds the lock). */
  apply(planner: (state: RuleState) => FirewallPlan, serialise?: Serialise): Promise<FirewallPlan>;
  /** online: the shared chains and this vif's chain; resolves to the step that puts things back if the online fails later. */
  addVif(vif: VifBinding, serialise: Serialise): Promise<{ changes: readonly string[]; undo: () => Promise<unknown> }>;
  /** offline: this vif's chain and dispatch rule, if present. */
  removeVif(device: string): Promise<readonly string[]>;
}

/** A batch whose guard failed was planned from a read another process overtook: read again. Real failures fail every time. */
const ATTEMPTS = 4;
const RESTORE_WAIT_S = '5';

export function createFirewall(exec: Exec, policy: FirewallPolicy): Firewall {
  const read = async (): Promise<RuleState> => {
    const saved = await exec('iptables-save', [], { check: true });
    return parseSave(saved.stdout);
  };
  const restore = (batch: string) => exec('iptables-restore', ['-w', RESTORE_WAIT_S, '--noflush'], { input: batch });

  const apply = async (planner: (state: RuleState) => FirewallPlan, serialise?: Serialise): Promise<FirewallPlan> => {
    let failure = '';
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const plan = planner(await read());
      if (plan.batch === '') return plan;
      if (plan.needsLock && serialise) return serialise(() => apply(planner));
      const result = await restore(plan.batch);
      if (result.exitCode === 0) return plan;
      failure = result.stderr.trim().split('\n').slice(0, 3).join(' / ') || `exit code ${result.exitCode}`;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
    throw new VifError('NETWORK', `iptables-restore --noflush failed ${ATTEMPTS} times: ${failure}`,
      'check that iptables works here (iptables-save; the raw and filter tables), then run vif-nat-dns-admin regen-firewall', { failure });
  };

  return {
    read,
    apply,
    async addVif(vif, serialise) {
      // a new vif on a host whose shared chains are in place (the common case): one restore, no iptables-save, whose
      // output (and cost) grows with every running guest; anything else fails it whole and is planned from a read
      const blind = blindAddVif(policy, vif);
      if ((await restore(blind.batch)).exitCode === 0) {
        return { changes: blind.changes, undo: () => apply((state) => planRestoreVif(state, vif.device, undefined)) };
      }
      let previous: readonly string[] | undefined;
      const plan = await apply((state) => {
        const planned = planAddVif(state, policy, vif);
        previous = planned.previous;
        return planned;
      }, serialise);
      return { changes: plan.changes, undo: () => apply((state) => planRestoreVif(state, vif.device, previous)) };
    },
    async removeVif(device) {
      // one spawn when the rules are as online left them; otherwise planned from a read (tolerant of anything gone)
      const blind = blindRemoveVif(device);
      if ((await restore(blind.batch)).exitCode === 0) return blind.changes;
      return (await apply((state) => planRemoveVif(state, device))).changes;
    },
  };
}
