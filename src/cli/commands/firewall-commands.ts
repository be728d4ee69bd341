// regen-firewall and remove-firewall: put back (after a flush) or take away the guests' firewall, under the hooks' lock.
import { parseArgs } from 'node:util';
import { runningVifs, type RuleState, type VifBinding } from '../../core/firewall-rules';
import { planRegenFirewall, planRemoveFirewall, type FirewallPlan } from '../../core/plan-firewall';
import { underLock } from '../../hook/deps';
import { createFirewall } from '../../edges/firewall';
import type { Command, CliContext } from '../context';

/** What regen-firewall works from: the running vifs (devices with a dom0-side address of the scheme) and every device's group. */
export async function firewallFacts(ctx: CliContext): Promise<{ running: VifBinding[]; groups: Map<string, number> }> {
  const [addresses, groups] = await Promise.all([ctx.net.addresses(), ctx.net.deviceGroups()]);
  return { running: runningVifs(ctx.config.scheme, addresses), groups };
}

async function change(ctx: CliContext, dryRun: boolean, planner: (state: RuleState) => FirewallPlan): Promise<FirewallPlan> {
  const firewall = createFirewall(ctx.exec, ctx.config.firewall);
  return dryRun ? planner(await firewall.read()) : firewall.apply(planner);
}

const report = (ctx: CliContext, plan: FirewallPlan) => ctx.out(plan.changes.length > 0 ? plan.changes.join('\n') : '(no change)');

export const regenFirewall: Command = {
  name: 'regen-firewall',
  summary: 'put the guests\' firewall back for the running vifs (after a flush), removing what is stale',
  usage: `regen-firewall [--dry-run]

Under the hooks' lock: creates the shared chains VND-ANTISPOOF (raw), VND-FORWARD and VND-INPUT (filter) with one jump
each from the top of PREROUTING, FORWARD and INPUT, sets their rules from the configuration (NETWORK, ISOLATE,
DOM0_SERVICES, DEVICE_GROUP), gives every running vif (a device carrying a dom0-side address of NETWORK) its
anti-spoofing chain VND-SRC-<device> with one jump, puts those devices in DEVICE_GROUP, and removes the chains of
devices that no longer exist. One iptables-restore --noflush batch. Idempotent; network-nat-dns start runs it.
  --dry-run   print what would change and change nothing
Exit: 0 done (or nothing to do), 1 error, 2 usage.`,
  async run(args, context) {
    const { values } = parseArgs({ args, options: { 'dry-run': { type: 'boolean' } }, strict: true });
    const ctx = context();
    const dryRun = Boolean(values['dry-run']);
    const plan = await underLock(ctx.files)(async () => {
      const { running, groups } = await firewallFacts(ctx);
      const planned = await change(ctx, dryRun, (state) => planRegenFirewall(state, ctx.config.firewall, running, new Set(groups.keys())));
      const regroup = [...new Set(running.map((v) => v.device))].filter((device) => groups.get(device) !== ctx.config.firewall.group);
      if (!dryRun) await ctx.net.setGroup(regroup, ctx.config.firewall.group);
      return { ...planned, changes: [...planned.changes, ...regroup.map((device) => `~ ${device} joins device group ${ctx.config.firewall.group}`)] };
    });
    report(ctx, plan);
    return 0;
  },
};

export const removeFirewall: Command = {
  name: 'remove-firewall',
  summary: 'remove every chain and jump of the guests\' firewall (network-nat-dns stop, uninstall)',
  usage: `remove-firewall [--dry-run]

Deletes the jumps to VND-ANTISPOOF, VND-FORWARD and VND-INPUT and every VND-* chain, in one iptables-restore
--noflush batch; nothing else in the firewall is touched. Running guests are then no longer anti-spoofed and depend
on the host's own rules: run it when stopping guests' networking. Idempotent.
  --dry-run   print what would change and change nothing
Exit: 0 done (or nothing to do), 1 error, 2 usage.`,
  async run(args, context) {
    const { values } = parseArgs({ args, options: { 'dry-run': { type: 'boolean' } }, strict: true });
    const ctx = context();
    report(ctx, await underLock(ctx.files)(() => change(ctx, Boolean(values['dry-run']), planRemoveFirewall)));
    return 0;
  },
};
