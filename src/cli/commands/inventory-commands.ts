// list, forget and gc: what is managed, and releasing machine numbers that are no longer wanted.
import { parseArgs } from 'node:util';
import { globMatch, inventory, type InventoryRow } from '../../core/inventory';
import { planForget } from '../../core/plan-forget';
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

async function forgetMachines(ctx: CliContext, pick: (all: InventoryRow[]) => InventoryRow[], force: boolean, dryRun: boolean): Promise<string[]> {
  const apply = async (snapshot: { hosts: string; ethers: string }) => {
    const all = await rows(ctx, snapshot);
    const chosen = pick(all);
    const machines = new Set(chosen.map((r) => r.machine));
    const online = all.filter((r) => machines.has(r.machine) && r.onlineDevice);
    if (online.length > 0 && !force) {
      throw new VifError('ADDRESS_IN_USE', `${online.map((r) => `${r.hostname} (${r.onlineDevice})`).join(', ')} ${online.length > 1 ? 'are' : 'is'} online`,
        'shut the guest down first, or pass --force (its address may then be given to another guest)', { online: online.map((r) => r.hostname) });
    }
    const plan = planForget(ctx.config.scheme, parseHosts(snapshot.hosts), parseEthers(snapshot.ethers), machines);
    const report = [...plan.removedHostsLines.map((l) => `- hosts:  ${l}`), ...plan.removedEthersLines.map((l) => `- ethers: ${l}`)];
    return { update: dryRun ? {} : { hosts: renderHosts(plan.hosts), ethers: renderEthers(plan.ethers) }, result: report };
  };
  const report = dryRun ? (await apply(await ctx.files.read())).result : await ctx.files.transact(apply);
  if (!dryRun && report.length > 0) await ctx.dnsmasq.reload();
  return report;
}

export const forget: Command = {
  name: 'forget',
  summary: 'release a machine number: remove its /etc/hosts lines and /etc/ethers bindings',
  usage: `forget <hostname> [--force] [--dry-run]

Releases the machine number of <hostname> (all its interfaces' lines: name, name-2, ...), so it can be handed
out again. Refuses while any of them is online unless --force. The name gets a new address next time it starts.
Exit: 0 done, 1 refused or error (unknown name included), 2 usage.`,
  async run(args, context) {
    const { values, positionals } = parseArgs({ args, options: { force: { type: 'boolean' }, 'dry-run': { type: 'boolean' } }, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new VifError('USAGE', 'forget takes exactly one hostname', 'see forget --help', {});
    const name = positionals[0]!.toLowerCase();
    const ctx = context();
    const report = await forgetMachines(ctx, (all) => {
      const found = all.filter((r) => r.hostname === name);
      if (found.length === 0) throw new VifError('NOT_FOUND', `${name} is not a managed hostname`, 'see `vif-nat-dns-admin list`', { hostname: name });
      return found;
    }, Boolean(values.force), Boolean(values['dry-run']));
    ctx.out(report.join('\n'));
    return 0;
  },
};

export const gc: Command = {
  name: 'gc',
  summary: 'release the machine numbers of offline guests whose names match a pattern',
  usage: `gc --match <glob> [--dry-run]

For farms of throw-away guests (ci-1234, ci-1235, ...) that would otherwise fill the machine numbers over time:
forgets every machine whose base name matches <glob> (* and ?) and none of whose interfaces is online.
  --match <glob>   required, e.g. 'ci-*'
  --dry-run        print what would go and change nothing
Exit: 0 done, 1 error, 2 usage.`,
  async run(args, context) {
    const { values } = parseArgs({ args, options: { match: { type: 'string' }, 'dry-run': { type: 'boolean' } }, strict: true });
    if (!values.match) throw new VifError('USAGE', 'gc needs --match <glob>', "e.g. gc --match 'ci-*'", {});
    const pattern = values.match;
    const ctx = context();
    const report = await forgetMachines(ctx, (all) => {
      const onlineMachines = new Set(all.filter((r) => r.onlineDevice).map((r) => r.machine));
      return all.filter((r) => r.y === 1 && globMatch(pattern, r.hostname) && !onlineMachines.has(r.machine));
    }, false, Boolean(values['dry-run']));
    ctx.out(report.length ? report.join('\n') : '(nothing to collect)');
    return 0;
  },
};
