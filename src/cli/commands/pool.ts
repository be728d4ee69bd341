// pool status|list|import|sync|watch: the shared registry of a pool of dom0s, as the admin sees and feeds it.
import { parseArgs } from 'node:util';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { POOL_WATCHER_PID_FILE } from '../../core/config';
import { VifError } from '../../core/errors';
import { parseHosts } from '../../core/hosts-file';
import { decode, type Scheme } from '../../core/scheme';
import { importTxn, planImport, type RegistrySnapshot } from '../../core/registry';
import { createLogger } from '../../edges/log';
import { createPoolRoutes } from '../../edges/pool-routes';
import { createEtcdRegistry, type EtcdRegistry } from '../../pool/etcd-registry';
import { syncOnce, type SyncDeps } from '../../pool/sync';
import { reportLines, watchPool } from '../../pool/watcher';
import { renderColumns } from '../columns';
import type { Command, CliContext } from '../context';

const USAGE = `pool <status|list|import|sync|watch> [options]

A pool of dom0s shares one registry in etcd (ETCD_ENDPOINTS, ETCD_PREFIX, POOL_ADDRESS in the config file):
every name keeps one address across all hosts; each running guest's binding (MAC, address, host) lives on its
host's etcd lease.
  status [--json]     the members (version, leader), the hosts with a live lease, names and bindings; exit 1 if
                      the registry does not answer
  list [--json]       every pool name: address, the host it runs on now and its MAC
  import [--dry-run]  register the names of this dom0's /etc/hosts (single-host mode's allocations) in the pool,
                      numbers kept; a name or address the pool already gives to something else is reported and
                      left as it is (nothing is overwritten); exit 1 if there were conflicts
  sync                one pass of what the watcher does: pool names into /etc/hosts, this host's bindings
                      reconciled with /etc/ethers, routes to the other hosts' guests
  watch               keep doing that within a second of every change (and every POOL_RESYNC_S seconds without
                      one), and keep this host's lease alive (run by templates/vif-nat-dns-pool.service); stops
                      on SIGTERM/SIGINT
Exit: 0, 1 error or conflicts, 2 usage.`;

function registryOf(ctx: CliContext): EtcdRegistry {
  if (!ctx.config.pool) {
    throw new VifError('BAD_CONFIG', 'this dom0 is not in a pool: ETCD_ENDPOINTS is empty', 'set ETCD_ENDPOINTS and POOL_ADDRESS in /etc/xen/vif-nat-dns.conf', {});
  }
  return createEtcdRegistry(ctx.config.pool);
}

export function syncDeps(ctx: CliContext, registry: EtcdRegistry): SyncDeps {
  return { scheme: ctx.config.scheme, registry, files: ctx.files, routes: createPoolRoutes(ctx.exec), dnsmasq: ctx.dnsmasq };
}

export interface PoolRow { readonly hostname: string; readonly address: string; readonly host?: string; readonly mac?: string }

export function poolRows(snapshot: RegistrySnapshot): PoolRow[] {
  return [...snapshot.names].map(([hostname, { ip }]) => {
    const bound = snapshot.bindings.get(hostname);
    return { hostname, address: ip, host: bound?.host, mac: bound?.mac };
  }).sort((a, b) => a.hostname.localeCompare(b.hostname));
}

/** [hostname, address] of every managed VM-side name in an /etc/hosts text. */
export function localNames(scheme: Scheme, hostsText: string): Array<readonly [string, string]> {
  return parseHosts(hostsText).entries.filter((e) => e.ipv4 !== undefined && decode(scheme, e.ipv4)?.side === 'vm')
    .flatMap((e) => e.names.map((name) => [name, e.address] as const));
}

async function status(ctx: CliContext, json: boolean): Promise<number> {
  const registry = registryOf(ctx);
  const members = await registry.client.members();
  let snapshot: RegistrySnapshot | undefined;
  let error: string | undefined;
  try {
    snapshot = await registry.snapshot();
  } catch (err) {
    error = (err as Error).message;
  }
  const me = registry.pool.address;
  const hosts = snapshot ? [...snapshot.hosts.keys()].sort().map((host) => ({
    host, self: host === me, bindings: [...snapshot!.bindings.values()].filter((b) => b.host === host).length,
  })) : [];
  if (json) {
    ctx.out(JSON.stringify({ members, hosts, names: snapshot?.names.size, bindings: snapshot?.bindings.size, error }, null, 2));
    return error ? 1 : 0;
  }
  ctx.out(renderColumns(['MEMBER', 'VERSION', 'ROLE'], members.map((m) => [m.endpoint, m.version ?? '-', m.error ? `unreachable: ${m.error}` : m.leader ? 'leader' : m.hasLeader ? 'follower' : 'no leader'])));
  if (!snapshot) {
    ctx.err(`the registry does not answer: ${error}`);
    return 1;
  }
  ctx.out('');
  ctx.out(renderColumns(['HOST', 'LIVE BINDINGS'], hosts.map((h) => [`${h.host}${h.self ? ' (this dom0)' : ''}`, String(h.bindings)])));
  if (!snapshot.hosts.has(me)) ctx.out(`(this dom0, ${me}, holds no lease: is vif-nat-dns-pool.service running?)`);
  ctx.out('');
  ctx.out(`${snapshot.names.size} names, ${snapshot.bindings.size} live bindings, revision ${snapshot.revision}`);
  return 0;
}

async function importNames(ctx: CliContext, dryRun: boolean): Promise<number> {
  const registry = registryOf(ctx);
  const local = localNames(ctx.config.scheme, (await ctx.files.read()).hosts);
  const plan = planImport(ctx.config.scheme, await registry.snapshot(), local);
  const conflicts = [...plan.conflicts];
  for (const [name, ip] of plan.register) {
    if (dryRun) { ctx.out(`would register ${name} ${ip}`); continue; }
    if (await registry.apply(importTxn(registry.pool.prefix, name, ip))) ctx.out(`registered ${name} ${ip}`);
    else conflicts.push(`${name} ${ip}: taken in the pool meanwhile`);
  }
  for (const line of conflicts) ctx.err(`conflict: ${line} (left as it is)`);
  ctx.out(`${plan.register.length} ${dryRun ? 'to register' : 'registered'}, ${plan.already.length} already in the pool, ${conflicts.length} conflicts`);
  return conflicts.length > 0 ? 1 : 0;
}

export const poolCommand: Command = {
  name: 'pool',
  summary: 'a pool of dom0s sharing one registry in etcd: status, list, import, sync, watch',
  usage: USAGE,
  async run(args, context) {
    const [sub, ...rest] = args;
    const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' }, 'dry-run': { type: 'boolean' } }, strict: true });
    const ctx = context();
    switch (sub) {
      case 'status':
        return status(ctx, Boolean(values.json));
      case 'list': {
        const rows = poolRows(await registryOf(ctx).snapshot());
        ctx.out(values.json ? JSON.stringify(rows, null, 2) : rows.length === 0 ? '(no names in the pool)'
          : renderColumns(['HOSTNAME', 'ADDRESS', 'RUNS ON', 'MAC'], rows.map((r) => [r.hostname, r.address, r.host ?? '-', r.mac ?? '-'])));
        return 0;
      }
      case 'import':
        return importNames(ctx, Boolean(values['dry-run']));
      case 'sync': {
        const registry = registryOf(ctx);
        const snapshot = await registry.snapshot();
        const report = await syncOnce(syncDeps(ctx, registry), snapshot, await registry.hostLease(snapshot));
        for (const line of reportLines(report)) ctx.out(line);
        ctx.out(`${report.routes} routes to other hosts' guests`);
        return 0;
      }
      case 'watch': {
        const registry = registryOf(ctx);
        const log = createLogger('vif-nat-dns-pool', ctx.config.logLevel, ctx.config.syslogSocket);
        const stop = new AbortController();
        for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());
        log.info(`watching ${registry.pool.prefix} on ${registry.pool.endpoints.join(', ')} as ${registry.pool.address}`);
        // doctor reads it to tell whether the watcher runs (a stale one names a process that is not a watcher)
        await mkdir(dirname(POOL_WATCHER_PID_FILE), { recursive: true });
        await writeFile(POOL_WATCHER_PID_FILE, `${process.pid}\n`);
        try {
          await watchPool(syncDeps(ctx, registry), log, stop.signal, { retryMs: 1000, debounceMs: 50, resyncMs: registry.pool.resyncS * 1000 });
        } finally {
          if ((await readFile(POOL_WATCHER_PID_FILE, 'utf8').catch(() => '')).trim() === String(process.pid)) await rm(POOL_WATCHER_PID_FILE, { force: true });
        }
        return 0;
      }
      default:
        throw new VifError('USAGE', `pool needs a subcommand (status, list, import, sync, watch), got ${JSON.stringify(sub ?? '')}`, 'vif-nat-dns-admin pool --help', {});
    }
  },
};
