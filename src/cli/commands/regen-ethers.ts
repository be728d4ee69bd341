// regen-ethers: rebuild /etc/ethers from the running vifs (under the hooks' lock), or print the diff with --dry-run.
import { parseArgs } from 'node:util';
import { planRegen, type RegenPlan } from '../../core/plan-regen';
import { parseHosts, renderHosts } from '../../core/hosts-file';
import { parseEthers, renderEthers } from '../../core/ethers-file';
import { listRunningVifs } from '../running-vifs';
import type { Command, CliContext } from '../context';

export function renderDiff(plan: RegenPlan): string {
  const lines = [
    ...plan.addedHostsLines.map((l) => `+ hosts:  ${l}`),
    ...plan.removedEthersLines.map((l) => `- ethers: ${l}`),
    ...plan.addedEthersLines.map((l) => `+ ethers: ${l}`),
  ];
  return lines.length > 0 ? lines.join('\n') : '(no change)';
}

async function regen(ctx: CliContext, dryRun: boolean): Promise<RegenPlan & { problems: string[] }> {
  const xs = await ctx.openXenStore();
  try {
    const compute = async (snapshot: { hosts: string; ethers: string }) => {
      const { vifs, problems } = await listRunningVifs(xs); // listed inside the lock: a hook's files step cannot slip between
      return { ...planRegen(ctx.config.scheme, parseHosts(snapshot.hosts), parseEthers(snapshot.ethers), vifs), problems };
    };
    if (dryRun) return await compute(await ctx.files.read());
    return await ctx.files.transact(async (snapshot) => {
      const plan = await compute(snapshot);
      return { update: { hosts: renderHosts(plan.hosts), ethers: renderEthers(plan.ethers) }, result: plan };
    });
  } finally {
    xs.close();
  }
}

export const regenEthers: Command = {
  name: 'regen-ethers',
  summary: 'rebuild /etc/ethers from the vifs that are running',
  usage: `regen-ethers [--dry-run]

Lists backend/vif/<domid>/<devid> in xenstore (online=1), derives each vif's hostname and address exactly as
the hook does (allocating in /etc/hosts, under the hooks' lock, where a name is new), rewrites the managed lines
of /etc/ethers atomically (every other line kept byte for byte) and reloads dnsmasq. Safe while hooks run.
Use after a dom0 crash, after editing /etc/hosts by hand, or when migrating from another scheme.
  --dry-run   print what would change and change nothing
Exit: 0 done (or nothing to do), 1 error, 2 usage.`,
  async run(args, context) {
    const { values } = parseArgs({ args, options: { 'dry-run': { type: 'boolean' } }, strict: true });
    const ctx = context();
    const plan = await regen(ctx, Boolean(values['dry-run']));
    for (const line of [...plan.problems, ...plan.skipped]) ctx.err(`skipped ${line}`);
    ctx.out(renderDiff(plan));
    if (!values['dry-run'] && plan.addedEthersLines.length + plan.removedEthersLines.length + plan.addedHostsLines.length > 0) {
      const reload = await ctx.dnsmasq.reload();
      ctx.err('warning' in reload ? reload.warning : `dnsmasq (pid ${reload.signalled}) reloaded`);
    }
    return 0;
  },
};
