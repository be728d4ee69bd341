// list, forget and gc: what is managed, and releasing machine numbers that are no longer wanted.
import { parseArgs } from 'node:util';
import { globMatch, inventory, type InventoryRow } from '../../core/inventory';
import { planForget } from '../../core/plan-forget';
import { planPoolForget, poolMachines, type RegistrySnapshot } from '../../core/registry';
import { decode } from '../../core/scheme';
import { createEtcdRegistry } from '../../pool/etcd-registry';
import { parseHosts, renderHosts } from '../../core/hosts-file';
import { parseEthers, renderEthers } from '../../core/ethers-file';
import { VifError } from '../../core/errors';
import type { Command, CliContext } from '../context';
import { renderColumns } from '../columns';

async function rows(ctx: CliContext, snapshot?: { hosts: string; ethers: string }): Promise<InventoryRow[]> {
  const files = snapshot ?? (await ctx.files.read());
  const live = await ctx.net.liveness('');
  return inventory(ctx.config.scheme, parseHosts(files.hosts), parseEthers(files.ethers), live.devicesByAddress);
}

export function renderTable(list: readonly InventoryRow[]): string {
  const head = ['HOSTNAME', 'MACHINE', 'IF', 'ADDRESS', 'MAC (/etc/ethers)', 'ONLINE'];
  return renderColumns(head, list.map((r) => [r.hostname, String(r.machine), String(r.y), r.address, r.macs.join(',') || '-', r.onlineDevice ?? '-']));
}

export const list: Command = {
  name: 'list',
  summary: 'managed hostnames, machine numbers, addresses, MACs and whether each is online',
  usage: `list [--json]

One row per managed name in /etc/hosts: machine number, interface, address, the MAC(s) /etc/ethers binds to it,
and the vif carrying its dom0 side now (ONLINE), read from \`ip -4 addr\`.
  --json   an array of {hostname, machine, y, address, macs, onlineDevice} for scripts
Exit: 0, 1 error, 2 usage.`,
  async run(args, context) {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
    const ctx = context();
    const result = await rows(ctx);
    ctx.out(values.json ? JSON.stringify(result, null, 2) : result.length ? renderTable(result) : '(no managed hosts)');
    return 0;
  },
};

/** What to forget: among this dom0's rows, and (in a pool) among the registry's names. */
interface Selection {
  local(all: InventoryRow[], snapshot?: RegistrySnapshot): InventoryRow[];
  pool(snapshot: RegistrySnapshot): Set<number>;
  /** a pool machine is chosen but --pool was not given: refuse (forget) or leave it, noted (gc) */
  withoutPoolFlag: 'refuse' | 'skip';
  /** nothing chosen at all */
  none?(): never;
}

interface ForgetOptions { readonly force: boolean; readonly dryRun: boolean; readonly pool: boolean }

/**
 * Forget machines under the hooks' lock. In a pool a machine the registry holds is released there first (one
 * transaction per name, leaving a tombstone every dom0's watcher acts on) and only then from these files; without
 * --pool it is not touched at all: forgetting it here alone would be undone by the watcher.
 */
async function forgetMachines(ctx: CliContext, select: Selection, options: ForgetOptions): Promise<string[]> {
  const registry = ctx.config.pool ? createEtcdRegistry(ctx.config.pool) : undefined;
  const apply = async (files: { hosts: string; ethers: string }) => {
    const all = await rows(ctx, files);
    const snapshot = await registry?.snapshot();
    const machines = new Set(select.local(all, snapshot).map((r) => r.machine));
    if (machines.size === 0 && (!snapshot || select.pool(snapshot).size === 0)) select.none?.();
    const notes: string[] = [];
    let inPool = new Set<number>();
    if (snapshot) {
      const registered = poolMachines(ctx.config.scheme, snapshot, () => true);
      inPool = new Set([...machines, ...select.pool(snapshot)].filter((m) => registered.has(m)));
      if (inPool.size > 0 && !options.pool) {
        const names = [...snapshot.names.keys()].filter((n) => inPool.has(decode(ctx.config.scheme, snapshot.names.get(n)!.ip)!.machine));
        if (select.withoutPoolFlag === 'refuse') {
          throw new VifError('POOL_CONFLICT', `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} registered in the pool: forgetting on this dom0 alone would be undone by the watcher (every dom0 holds every pool name)`,
            'names keep their numbers in the pool; pass --pool to release them on every dom0', { names });
        }
        notes.push(`(left ${names.join(', ')}: registered in the pool; gc --pool releases them on every dom0)`);
        for (const m of inPool) machines.delete(m);
        inPool = new Set();
      }
      for (const m of inPool) machines.add(m);
    }
    const online = all.filter((r) => machines.has(r.machine) && r.onlineDevice);
    if (online.length > 0 && !options.force) {
      throw new VifError('ADDRESS_IN_USE', `${online.map((r) => `${r.hostname} (${r.onlineDevice})`).join(', ')} ${online.length > 1 ? 'are' : 'is'} online`,
        'shut the guest down first, or pass --force (its address may then be given to another guest)', { online: online.map((r) => r.hostname) });
    }
    const report: string[] = [];
    if (snapshot && inPool.size > 0) {
      const plan = planPoolForget(ctx.config.scheme, ctx.config.pool!.prefix, snapshot, inPool, ctx.config.pool!.address, options.force);
      if (plan.refused.length > 0) {
        throw new VifError('ADDRESS_IN_USE', `${plan.refused.join(', ')}: a running guest keeps its name`, 'shut the guest down on that dom0 first', { refused: plan.refused });
      }
      for (const { name, ip, txn } of plan.release) {
        if (options.dryRun || (await registry!.apply(txn))) { report.push(`- pool:   ${ip}\t${name}`); continue; }
        // changed since the snapshot (the guest started somewhere?): its machine stays, here too
        notes.push(`(left ${name}: it changed in the pool meanwhile; run the command again)`);
        machines.delete(decode(ctx.config.scheme, ip)!.machine);
      }
    }
    const plan = planForget(ctx.config.scheme, parseHosts(files.hosts), parseEthers(files.ethers), machines);
    report.push(...plan.removedHostsLines.map((l) => `- hosts:  ${l}`), ...plan.removedEthersLines.map((l) => `- ethers: ${l}`), ...notes);
    return { update: options.dryRun ? {} : { hosts: renderHosts(plan.hosts), ethers: renderEthers(plan.ethers) }, result: report };
  };
  const report = options.dryRun ? (await apply(await ctx.files.read())).result : await ctx.files.transact(apply);
  if (!options.dryRun && report.some((line) => line.startsWith('- hosts') || line.startsWith('- ethers'))) await ctx.dnsmasq.reload();
  return report;
}

export const forget: Command = {
  name: 'forget',
  summary: 'release a machine number: remove its /etc/hosts lines and /etc/ethers bindings',
  usage: `forget <hostname> [--pool] [--force] [--dry-run]

Releases the machine number of <hostname> (all its interfaces' lines: name, name-2, ...), so it can be handed
out again. Refuses while any of them is online unless --force. The name gets a new address next time it starts.
In a pool (ETCD_ENDPOINTS set) a registered name keeps its number on every dom0 for ever, unless released pool-wide:
  --pool     release it in the registry (refused while it runs on any dom0; --force allows this dom0 only), then
             here; every other dom0's watcher removes its /etc/hosts line
  --dry-run  print what would go and change nothing
Exit: 0 done, 1 refused or error (unknown name included), 2 usage.`,
  async run(args, context) {
    const { values, positionals } = parseArgs({ args, options: { force: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, pool: { type: 'boolean' } }, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new VifError('USAGE', 'forget takes exactly one hostname', 'see forget --help', {});
    const name = positionals[0]!.toLowerCase();
    const ctx = context();
    if (values.pool && !ctx.config.pool) throw new VifError('USAGE', '--pool: this dom0 is not in a pool (ETCD_ENDPOINTS is empty)', 'drop --pool', {});
    const report = await forgetMachines(ctx, {
      local: (all) => all.filter((r) => r.hostname === name),
      pool: (snapshot) => poolMachines(ctx.config.scheme, snapshot, (n) => n === name),
      withoutPoolFlag: 'refuse',
      none: () => { throw new VifError('NOT_FOUND', `${name} is not a managed hostname`, `see \`vif-nat-dns-admin list\`${ctx.config.pool ? ' and `pool list`' : ''}`, { hostname: name }); },
    }, { force: Boolean(values.force), dryRun: Boolean(values['dry-run']), pool: Boolean(values.pool) });
    ctx.out(report.join('\n'));
    return 0;
  },
};

export const gc: Command = {
  name: 'gc',
  summary: 'release the machine numbers of offline guests whose names match a pattern',
  usage: `gc --match <glob> [--pool] [--dry-run]

For farms of throw-away guests (ci-1234, ci-1235, ...) that would otherwise fill the machine numbers over time:
forgets every machine whose base name matches <glob> (* and ?) and none of whose interfaces is online.
  --match <glob>   required, e.g. 'ci-*'
  --pool           in a pool: also release the matching pool names that run on no dom0, on every dom0 (without
                   it, names registered in the pool are left and named: they keep their numbers)
  --dry-run        print what would go and change nothing
Exit: 0 done, 1 error, 2 usage.`,
  async run(args, context) {
    const { values } = parseArgs({ args, options: { match: { type: 'string' }, 'dry-run': { type: 'boolean' }, pool: { type: 'boolean' } }, strict: true });
    if (!values.match) throw new VifError('USAGE', 'gc needs --match <glob>', "e.g. gc --match 'ci-*'", {});
    const pattern = values.match;
    const ctx = context();
    if (values.pool && !ctx.config.pool) throw new VifError('USAGE', '--pool: this dom0 is not in a pool (ETCD_ENDPOINTS is empty)', 'drop --pool', {});
    const { scheme } = ctx.config;
    const report = await forgetMachines(ctx, {
      local: (all, snapshot) => {
        // running here, or (in a pool) on any dom0
        const running = new Set([...all.filter((r) => r.onlineDevice).map((r) => r.machine), ...(snapshot ? poolMachines(scheme, snapshot, () => true, true) : [])]);
        return all.filter((r) => r.y === 1 && globMatch(pattern, r.hostname) && !running.has(r.machine));
      },
      pool: (snapshot) => {
        const running = poolMachines(scheme, snapshot, () => true, true);
        return new Set([...poolMachines(scheme, snapshot, (n, y) => y === 1 && globMatch(pattern, n))].filter((m) => !running.has(m)));
      },
      withoutPoolFlag: 'skip',
    }, { force: false, dryRun: Boolean(values['dry-run']), pool: Boolean(values.pool) });
    ctx.out(report.length ? report.join('\n') : '(nothing to collect)');
    return 0;
  },
};
