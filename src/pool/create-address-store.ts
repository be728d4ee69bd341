// Picks the address store the configuration asks for: the files alone, or the pool's registry in etcd.
import type { Config } from '../core/config';
import type { Exec } from '../edges/exec';
import { createPoolRoutes } from '../edges/pool-routes';
import { filesAddressStore, type AddressStore } from './address-store';
import { createEtcdAddressStore } from './etcd-address-store';
import { createEtcdRegistry } from './etcd-registry';

export function createAddressStore(config: Config, exec: Exec, timeoutMs?: number): AddressStore {
  if (!config.pool) return filesAddressStore;
  return createEtcdAddressStore(config.scheme, config.pool, createEtcdRegistry(config.pool, timeoutMs), createPoolRoutes(exec));
}
