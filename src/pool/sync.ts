// One pass of a pool dom0 catching up with the registry: pool names into /etc/hosts, its bindings reconciled with /etc/ethers, routes.
import type { Scheme } from '../core/scheme';
import { parseHosts, renderHosts } from '../core/hosts-file';
import { parseEthers } from '../core/ethers-file';
import { desiredRoutes, dropForgotten, mergePoolNames, planReconcile, planRoutes, poolNames } from '../core/pool-materialise';
import type { RegistrySnapshot } from '../core/registry';
import type { Dnsmasq } from '../edges/dnsmasq';
import type { FileStore } from '../edges/file-store';
import type { PoolRoutes } from '../edges/pool-routes';
import type { EtcdRegistry } from './etcd-registry';

export interface SyncDeps {
  readonly scheme: Scheme;
  readonly registry: EtcdRegistry;
  readonly files: FileStore;
  readonly routes: PoolRoutes;
  readonly dnsmasq: Dnsmasq;
}

export interface SyncReport {
  readonly addedHostsLines: readonly string[];
  readonly removedHostsLines: readonly string[]; // names released pool-wide (forget --pool)
  readonly conflicts: readonly string[];
  readonly reconciled: readonly string[];
  readonly routeProblems: readonly string[];
  readonly routes: number; // routes to other hosts' guests after the pass
}

/**
 * `snapshot` must have been read before this call: /etc/ethers is read after it, so a hook that wrote its line
 * and then registered its binding is never mistaken for a binding without a line.
 */
export async function syncOnce(deps: SyncDeps, snapshot: RegistrySnapshot, lease: string): Promise<SyncReport> {
  const { pool } = deps.registry;
  const merged = await deps.files.transact((files) => {
    const dropped = dropForgotten(parseHosts(files.hosts), snapshot, parseEthers(files.ethers));
    const merge = mergePoolNames(dropped.hosts, poolNames(snapshot));
    const changed = merge.added.length + dropped.removed.length > 0;
    return { update: { hosts: changed ? renderHosts(merge.hosts) : undefined }, result: { ...merge, dropped, ethers: files.ethers } };
  });
  if (merged.added.length + merged.dropped.removed.length > 0) await deps.dnsmasq.reload();

  const reconcile = planReconcile(deps.scheme, pool.prefix, snapshot, pool.address, lease, parseEthers(merged.ethers));
  const reconciled: string[] = [];
  for (const { txn, note } of reconcile.changes) {
    // a txn that finds things changed is simply dropped: the change it lost to triggers the next pass
    if (await deps.registry.apply(txn)) reconciled.push(note);
  }
  const desired = desiredRoutes(deps.scheme, snapshot, pool.address);
  const routeProblems = await deps.routes.apply(planRoutes(await deps.routes.list(), desired));
  return {
    addedHostsLines: merged.added, removedHostsLines: merged.dropped.removed, conflicts: [...merged.conflicts, ...merged.dropped.kept, ...reconcile.notes], reconciled,
    routeProblems, routes: desired.size,
  };
}
