// regen-firewall and remove-firewall: put back (after a flush) or take away the guests' firewall, under the hooks' lock.
import { parseArgs } from 'node:util';
import { runningVifs, type RuleState, type VifBinding } from '../../core/firewall-rules';
import { planRegenFirewall, planRemoveFirewall, type FirewallPlan } from '../../core/plan-firewall';
import { underLock } from '../../hook/deps';
import { kernelFilters, markerAllowsKernel, RP_FILTER_OFF, RP_FILTER_STRICT, rpFilterOverrides as rpFilterOverridesOf } from '../../core/antispoof';
import { readSysctlConfig } from '../../edges/sysctl-config';
import { createFirewall } from '../../edges/firewall';
import type { Command, CliContext } from '../context';

export interface FirewallFacts {
  /** Lines of the sysctl configuration that would reset a new vif's rp_filter (rpFilterOverrides). */
  readonly rpFilterOverrides: string[];
  readonly kernelAllowed: boolean;
  readonly running: VifBinding[];
  readonly groups: Map<string, number>;
  /** Running vifs whose sources the kernel checks (core/antispoof.ts): they need no chain. */
  readonly kernelFiltered: Set<string>;
  /** Running vifs whose rp_filter says kernel (1) though `all`=2 makes it loose (or KERNEL_ANTISPOOF=no): regen-firewall gives them a chain and 0. */
  readonly toChain: string[];
}

/**
 * What regen-firewall and doctor work from: the running vifs (devices with a dom0-side address of the scheme), every
 * device's group, each vif's reverse-path filter, and whether a vif's rp_filter=1 is taken to be ours (`kernelAllowed`):
 * for regen-firewall, KERNEL_ANTISPOOF=yes and no override in the sysctl configuration (what it then records); for
 * doctor, what the marker says, as hooks see it (doctor counts every vif the kernel checks now as anti-spoofed).
 */
export async function firewallFacts(ctx: CliContext, purpose: 'regen' | 'doctor'): Promise<FirewallFacts> {
  const [addresses, groups, all, marker] = await Promise.all([ctx.net.addresses(), ctx.net.deviceGroups(), ctx.net.rpFilter('all'), ctx.net.bootMarker()]);
  const rpFilterOverrides = rpFilterOverridesOf(readSysctlConfig());
  const allowed = ctx.config.kernelAntispoof && (purpose === 'regen' ? rpFilterOverrides.length === 0 : markerAllowsKernel(marker));
  const running = runningVifs(ctx.config.scheme, addresses);
  const kernelFiltered = new Set<string>();
  const toChain: string[] = [];
  for (const device of new Set(running.map((vif) => vif.device))) {
    const value = await ctx.net.rpFilter(device);
    // doctor asks what protects a vif now, whoever set its value; regen-firewall keeps only the vifs it may leave to the kernel
    if ((allowed || purpose === 'doctor') && kernelFilters(value, all)) kernelFiltered.add(device);
    else if (value === RP_FILTER_STRICT) toChain.push(device);
  }
  return { rpFilterOverrides, kernelAllowed: allowed, running, groups, kernelFiltered, toChain };
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
DOM0_SERVICES, DEVICE_GROUP; VND-ANTISPOOF ends in the rpfilter rule for vifs without a chain), turns an older
version's dispatch jumps into gotos, gives every running vif (a device carrying a dom0-side address of NETWORK) its
anti-spoofing chain VND-SRC-<device> with one goto unless the kernel checks its sources (rp_filter=1 on the vif,
net.ipv4.conf.all.rp_filter not 2, KERNEL_ANTISPOOF=yes: then it removes the vif's chain), sets rp_filter=0 on the
vifs it gives a chain, puts those devices in DEVICE_GROUP, and removes the chains of devices that no longer exist.
One iptables-restore --noflush batch. Then it records in /run/vif-nat-dns/network-started that the shared chains
are in place, so new vifs may be left to the kernel. Idempotent; network-nat-dns start runs it.
  --dry-run   print what would change and change nothing
Exit: 0 done (or nothing to do), 1 error, 2 usage.`,
  async run(args, context) {
    const { values } = parseArgs({ args, options: { 'dry-run': { type: 'boolean' } }, strict: true });
    const ctx = context();
    const dryRun = Boolean(values['dry-run']);
    const plan = await underLock(ctx.files)(async () => {
      // new vifs may be left to the kernel only where nothing else sets their rp_filter (core/antispoof.ts)
      const { running, groups, kernelFiltered, toChain, rpFilterOverrides, kernelAllowed } = await firewallFacts(ctx, 'regen');
      const planned = await change(ctx, dryRun, (state) => planRegenFirewall(state, ctx.config.firewall, running, new Set(groups.keys()), kernelFiltered));
      const regroup = [...new Set(running.map((v) => v.device))].filter((device) => groups.get(device) !== ctx.config.firewall.group);
      if (!dryRun) {
        // now checked by their chains: 0 says so to offline, which then removes them
        for (const device of toChain) await ctx.net.setRpFilter(device, RP_FILTER_OFF);
        await ctx.net.setGroup(regroup, ctx.config.firewall.group);
        await ctx.net.recordFirewall(ctx.config.firewall, kernelAllowed); // the shared chains are in place: hooks need not check them
      }
      const why = !ctx.config.kernelAntispoof ? 'KERNEL_ANTISPOOF=no'
        : rpFilterOverrides.length > 0 ? 'the sysctl configuration may reset its rp_filter' : 'net.ipv4.conf.all.rp_filter=2 makes the kernel\'s check loose';
      return { ...planned, changes: [...planned.changes,
        ...(ctx.config.kernelAntispoof && rpFilterOverrides.length > 0 ? [`(new vifs get chains of their own: ${rpFilterOverrides[0]} would reset their rp_filter)`] : []),
        ...toChain.map((device) => `~ ${device}: rp_filter=0, its chain checks its sources (${why})`),
        ...regroup.map((device) => `~ ${device} joins device group ${ctx.config.firewall.group}`)] };
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
--noflush batch; nothing else in the firewall is touched (first it takes the firewall's line out of
/run/vif-nat-dns/network-started: new vifs then get chains of their own again). Running guests are then no longer
anti-spoofed by chains (those the kernel checks, rp_filter=1, still are) and depend on the host's own rules: run it
when stopping guests' networking. Idempotent.
  --dry-run   print what would change and change nothing
Exit: 0 done (or nothing to do), 1 error, 2 usage.`,
  async run(args, context) {
    const { values } = parseArgs({ args, options: { 'dry-run': { type: 'boolean' } }, strict: true });
    const ctx = context();
    const dryRun = Boolean(values['dry-run']);
    report(ctx, await underLock(ctx.files)(async () => {
      if (!dryRun) await ctx.net.recordFirewall(undefined, false); // first: no new vif may count on the chains from here on
      return change(ctx, dryRun, planRemoveFirewall);
    }));
    return 0;
  },
};
