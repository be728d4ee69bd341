// The registry in etcd: one range read gives a snapshot, every change is one compare-and-swap transaction, and this host's lease.
import type { PoolConfig } from '../core/config';
import { parseSnapshot, planHostLease, type RegistrySnapshot, type RegistryTxn } from '../core/registry';
import { createEtcdClient, isLeaseNotFound, type EtcdClient } from '../edges/etcd-client';

export interface EtcdRegistry {
  readonly client: EtcdClient;
  readonly pool: PoolConfig;
  snapshot(): Promise<RegistrySnapshot>;
  /** true: applied; false: something changed since the snapshot it was planned from (re-read and re-plan). */
  apply(txn: RegistryTxn): Promise<boolean>;
  /** This host's lease: the one its record carries (kept alive by the watcher), or a new one recorded now. */
  hostLease(snapshot: RegistrySnapshot, options?: { renew?: boolean }): Promise<string>;
  /** apply `plan(lease)`, granting a new host lease once if the one it named expired meanwhile. */
  applyWithLease(snapshot: RegistrySnapshot, plan: (lease: string) => RegistryTxn | undefined): Promise<boolean>;
}

export function createEtcdRegistry(pool: PoolConfig, timeoutMs = pool.timeoutMs, client: EtcdClient = createEtcdClient({ ...pool, timeoutMs })): EtcdRegistry {
  async function apply(txn: RegistryTxn): Promise<boolean> {
    return (await client.txn(txn.compare, txn.success)).succeeded;
  }

  async function snapshot(): Promise<RegistrySnapshot> {
    const { kvs, revision } = await client.range(pool.prefix, { prefix: true });
    return parseSnapshot(pool.prefix, kvs, revision);
  }

  async function hostLease(from: RegistrySnapshot, options: { renew?: boolean } = {}): Promise<string> {
    let current = from;
    for (let attempt = 0; attempt < 3; attempt++) {
      const recorded = current.hosts.get(pool.address);
      if (recorded && !options.renew) return recorded.lease;
      const lease = await client.leaseGrant(pool.leaseTtlS);
      if (await apply(planHostLease(pool.prefix, current, pool.address, lease))) return lease;
      current = await snapshot(); // another process of this host recorded one first: use that
      options = {};
    }
    throw new Error(`could not record ${pool.address}'s lease: its record kept changing`);
  }

  return {
    client,
    pool,
    snapshot,
    apply,
    hostLease,
    async applyWithLease(from, plan) {
      const lease = await hostLease(from);
      const txn = plan(lease);
      if (!txn) return true;
      try {
        return await apply(txn);
      } catch (err) {
        if (!isLeaseNotFound(err)) throw err;
        const renewed = plan(await hostLease(await snapshot(), { renew: true }));
        return renewed ? apply(renewed) : true;
      }
    },
  };
}
