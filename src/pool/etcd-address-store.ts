// Allocation through the pool's registry: reserve a name's address by transaction, bind it to this host's lease, route to the others.
import type { PoolConfig } from '../core/config';
import type { Scheme } from '../core/scheme';
import { isVifError, VifError } from '../core/errors';
import { planBind, planReservation, planUnbind, type RegistrySnapshot } from '../core/registry';
import { desiredRoutes, namesMissingFrom, planRoutes, poolNames, releasedIn, releasedPairs } from '../core/pool-materialise';
import type { PoolRoutes } from '../edges/pool-routes';
import type { AddressStore } from './address-store';
import type { EtcdRegistry } from './etcd-registry';

/** Each lost race means another host registered something: re-read and plan again, for at most this long. */
const CONTENTION_DEADLINE_MS = 15_000;

export function createEtcdAddressStore(scheme: Scheme, pool: PoolConfig, registry: EtcdRegistry, routes: PoolRoutes): AddressStore {
  let last: RegistrySnapshot | undefined;
  const read = async () => (last = await registry.snapshot());

  /** Run `step` on a fresh snapshot (the first time on `first`, if given) until it returns a result; lost races back off, randomised. */
  async function until<T>(what: string, step: (snapshot: RegistrySnapshot, attempt: number) => Promise<T | undefined>, first?: RegistrySnapshot): Promise<T> {
    const deadline = Date.now() + CONTENTION_DEADLINE_MS;
    for (let attempt = 1; ; attempt++) {
      const result = await step(attempt === 1 && first ? first : await read(), attempt);
      if (result !== undefined) return result;
      if (Date.now() > deadline) {
        throw new VifError('POOL_CONFLICT', `${what}: the registry kept changing for ${CONTENTION_DEADLINE_MS / 1000} s (${attempt} attempts)`, 'many hosts are allocating at once: retry', { what, attempt });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * attempt)));
    }
  }

  return {
    async reserve(request, local) {
      let snapshot: RegistrySnapshot;
      try {
        snapshot = await read();
      } catch (err) {
        if (isVifError(err) && err.code === 'POOL_UNAVAILABLE') return { kind: 'degraded', error: err };
        throw err;
      }
      const files = await local();
      return until('reserving an address', async (now, attempt) => {
        // after a lost race, aim at random among the few lowest free numbers instead of where every loser aims
        const plan = planReservation(scheme, pool.prefix, now, request, files, attempt === 1 ? 0 : Math.floor(Math.random() * Math.min(attempt, 8)));
        // only the names this dom0's /etc/hosts lacks travel with the request (the watcher keeps it nearly complete)
        const released = releasedIn(files.hosts, releasedPairs(now));
        if (plan.kind === 'registered') return { kind: 'pool' as const, hostname: plan.hostname, vmIp: plan.vmIp, names: namesMissingFrom(files.hosts, poolNames(now)), released };
        if (!(await registry.apply(plan.txn))) return undefined;
        return { kind: 'pool' as const, hostname: plan.hostname, vmIp: plan.vmIp, names: namesMissingFrom(files.hosts, [...poolNames(now), ...plan.names]), released };
      }, snapshot);
    },
    async bind(hostname, vmIp, mac, incoming) {
      const notes: string[] = [];
      await until(`binding ${hostname}`, async (snapshot) => {
        const moved = snapshot.bindings.get(hostname);
        const applied = await registry.applyWithLease(snapshot, (lease) => planBind(pool.prefix, snapshot, { hostname, binding: { mac, ip: vmIp, host: pool.address }, lease, incoming }));
        if (applied && moved && moved.host !== pool.address) notes.push(`${hostname}'s binding moved here from ${moved.host}`);
        return applied || undefined;
      });
      last = undefined; // the routes are planned from a snapshot that holds our own binding
      return notes;
    },
    async unbind(hostname, vmIp) {
      const name = hostname ?? (vmIp === undefined ? undefined : (last ?? (await read())).addresses.get(vmIp));
      if (name === undefined) return [];
      let kept: string | undefined;
      await until(`unbinding ${name}`, async (snapshot) => {
        const txn = planUnbind(pool.prefix, snapshot, name, pool.address);
        kept = txn ? undefined : snapshot.bindings.get(name)?.host;
        return txn ? (await registry.apply(txn)) || undefined : true;
      });
      return kept && kept !== pool.address ? [`${name}'s binding stays with ${kept}`] : [];
    },
    async syncRoutes() {
      const snapshot = last ?? (await read());
      return routes.apply(planRoutes(await routes.list(), desiredRoutes(scheme, snapshot, pool.address)));
    },
  };
}
