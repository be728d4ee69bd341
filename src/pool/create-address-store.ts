// Picks the address store the configuration asks for: the files alone, or the pool's registry in etcd.
import type { Config } from '../core/config';
import type { Exec } from '../edges/exec';
import type * as PoolRoutes from '../edges/pool-routes';
import type * as EtcdAddressStore from './etcd-address-store';
import type * as EtcdRegistry from './etcd-registry';
import { filesAddressStore, type AddressStore } from './address-store';

/** The pool's modules are loaded only for a pool: a single-host hook does not evaluate the etcd client at every event. */
export function createAddressStore(config: Config, exec: Exec, timeoutMs?: number): AddressStore {
  if (!config.pool) return filesAddressStore;
  const { createEtcdAddressStore } = require('./etcd-address-store') as typeof EtcdAddressStore;
  const { createEtcdRegistry } = require('./etcd-registry') as typeof EtcdRegistry;
  const { createPoolRoutes } = require('../edges/pool-routes') as typeof PoolRoutes;
  return createEtcdAddressStore(config.scheme, config.pool, createEtcdRegistry(config.pool, timeoutMs), createPoolRoutes(exec));
}
