// regen-ethers: rebuild /etc/ethers from the running vifs (under the hooks' lock), or print the diff with --dry-run.
import { parseArgs } from 'node:util';
import { planRegen, type PoolRegen, type RegenPlan } from '../../core/plan-regen';
import { parseHosts, renderHosts } from '../../core/hosts-file';
import { parseEthers, renderEthers } from '../../core/ethers-file';
import { describeError } from '../../core/errors';
import { mergePoolNames, namesMissingFrom, planReconcile, poolNames } from '../../core/pool-materialise';
import { planReservation } from '../../core/registry';
import type { XenStore } from '../../edges/xenstore';
import { createAddressStore } from '../../pool/create-address-store';
import { createEtcdRegistry, type EtcdRegistry } from '../../pool/etcd-registry';
import { syncOnce } from '../../pool/sync';
import { reportLines } from '../../pool/watcher';
import { listRunningVifs } from '../running-vifs';
import { syncDeps } from './pool';
import type { Command, CliContext } from '../context';

export function renderDiff(plan: RegenPlan): string {
  const lines = [
    ...plan.addedHostsLines.map((l) => `+ hosts:  ${l}`),
    ...plan.removedEthersLines.map((l) => `- ethers: ${l}`),
    ...plan.addedEthersLines.map((l) => `+ ethers: ${l}`),
  ];
  return lines.length > 0 ? lines.join('\n') : '(no change)';
}

/** What a pool dom0's regen takes from the registry before the lock: every running vif's name registered (as its online would), the names to materialise. */
interface PoolPass {
  readonly regen: PoolRegen;
  readonly names: ReadonlyArray<readonly [string, string]>;
  readonly problems: readonly string[];
  readonly degraded?: string;
}

async function reserveRunning(ctx: CliContext, xs: XenStore, registry: EtcdRegistry, dryRun: boolean): Promise<PoolPass> {
  const store = createAddressStore(ctx.config, ctx.exec);
  const names: Array<readonly [string, string]> = [];
  const problems: string[] = [];
  const { scheme } = ctx.config;
  // --dry-run registers nothing: names the pool lacks are only named
  const looked = dryRun ? await Promise.all([registry.snapshot(), ctx.files.read()]) : undefined;
  if (looked) names.push(...namesMissingFrom(looked[1].hosts, poolNames(looked[0])));
  for (const vif of (await listRunningVifs(xs)).vifs) {
    const request = { domainName: vif.domainName, y: vif.devid + 1, pinnedIp: vif.pinnedIp };
    try {
      if (looked) {
        const plan = planReservation(scheme, registry.pool.prefix, looked[0], request, looked[1]);
        if (plan.kind === 'reserve') problems.push(`domain ${vif.domid} (${vif.domainName}) vif ${vif.devid}: would register ${plan.hostname} ${plan.vmIp} in the pool`);
        continue;
      }
      const reserved = await store.reserve(request, () => ctx.files.read());
      if (reserved.kind === 'degraded') {
        const degraded = `the pool registry cannot be reached, so names new to this dom0 get no address (${reserved.error.message})`;
        return { regen: { unregistered: 'is new to this dom0 and the pool registry cannot be reached', boundElsewhere: new Map() }, names, problems, degraded };
      }
      if (reserved.kind === 'pool') names.push(...reserved.names);
    } catch (err) {
      problems.push(`domain ${vif.domid} (${vif.domainName}) vif ${vif.devid}: ${describeError(err)}`);
    }
  }
  const snapshot = await registry.snapshot();
  const me = registry.pool.address;
  const boundElsewhere = new Map([...snapshot.bindings].filter(([, b]) => b.host !== me).map(([name, b]) => [name, b.host]));
  return { regen: { unregistered: 'is not registered in the pool (see the problems above)', boundElsewhere }, names, problems };
}

async function regen(ctx: CliContext, dryRun: boolean): Promise<RegenPlan & { problems: string[]; pool?: PoolPass }> {
  const xs = await ctx.openXenStore();
  try {
    const registry = ctx.config.pool ? createEtcdRegistry(ctx.config.pool) : undefined;
    const pool = registry && (await reserveRunning(ctx, xs, registry, dryRun));
    const compute = async (snapshot: { hosts: string; ethers: string }) => {
      const { vifs, problems } = await listRunningVifs(xs); // listed inside the lock: a hook's files step cannot slip between
      // a pool: the registry's names first (a hook's batch does the same); the plan then allocates nothing itself
      const merged = mergePoolNames(parseHosts(snapshot.hosts), pool?.names ?? []);
      const plan = planRegen(ctx.config.scheme, merged.hosts, parseEthers(snapshot.ethers), vifs, pool?.regen);
      return { ...plan, addedHostsLines: [...merged.added, ...plan.addedHostsLines], problems: [...(pool?.problems ?? []), ...merged.conflicts, ...problems], pool };
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

/** A pool: this host's live bindings follow the rebuilt /etc/ethers (registered, moved, dropped) and the routes follow the registry. */
async function bindingsFollow(ctx: CliContext, plan: RegenPlan, dryRun: boolean): Promise<string[]> {
  const registry = createEtcdRegistry(ctx.config.pool!);
  const snapshot = await registry.snapshot();
  if (dryRun) {
    const me = registry.pool.address;
    const reconcile = planReconcile(ctx.config.scheme, registry.pool.prefix, snapshot, me, snapshot.hosts.get(me)?.lease ?? '0', plan.ethers);
    return [...reconcile.changes.map((c) => `would have ${c.note}`), ...reconcile.notes];
  }
  return reportLines(await syncOnce(syncDeps(ctx, registry), snapshot, await registry.hostLease(snapshot)));
}

export const regenEthers: Command = {
  name: 'regen-ethers',
  summary: 'rebuild /etc/ethers from the vifs that are running',
  usage: `regen-ethers [--dry-run]

Lists backend/vif/<domid>/<devid> in xenstore (online=1), derives each vif's hostname and address exactly as
the hook does (allocating in /etc/hosts, under the hooks' lock, where a name is new), rewrites the managed lines
of /etc/ethers atomically (every other line kept byte for byte) and reloads dnsmasq. Safe while hooks run.
Use after a dom0 crash, after editing /etc/hosts by hand, or when migrating from another scheme.
In a pool (ETCD_ENDPOINTS set) each running vif's name is registered in the pool first, exactly as its online would,
the pool's names are materialised, a name the registry says runs on another dom0 gets no line here, and then this
dom0's live bindings follow the rebuilt /etc/ethers (registered, dropped) and its routes the registry, as
\`pool sync\` does. With the registry unreachable, names new to this dom0 are skipped.
  --dry-run   print what would change and change nothing
Exit: 0 done (or nothing to do), 1 error, 2 usage.`,
  async run(args, context) {
    const { values } = parseArgs({ args, options: { 'dry-run': { type: 'boolean' } }, strict: true });
    const ctx = context();
    const dryRun = Boolean(values['dry-run']);
    const plan = await regen(ctx, dryRun);
    for (const line of [...plan.problems, ...plan.skipped]) ctx.err(`skipped ${line}`);
    ctx.out(renderDiff(plan));
    if (!dryRun && plan.addedEthersLines.length + plan.removedEthersLines.length + plan.addedHostsLines.length > 0) {
      const reload = await ctx.dnsmasq.reload();
      ctx.err('warning' in reload ? reload.warning : `dnsmasq (pid ${reload.signalled}) reloaded`);
    }
    if (plan.pool?.degraded) ctx.err(`degraded: ${plan.pool.degraded}; the watcher registers this dom0's bindings when it answers again`);
    else if (plan.pool) for (const line of await bindingsFollow(ctx, plan, dryRun)) ctx.out(line);
    return 0;
  },
};
