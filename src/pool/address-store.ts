// Where addresses are allocated: the files alone (one dom0) or the pool's registry in etcd; the hook sees only this interface.
import type { AllocationRequest } from '../core/allocation';
import type { PoolOnlineFields } from '../core/batch-request';
import type { VifError } from '../core/errors';
import type { Snapshot } from '../edges/file-store';

export type Reserved =
  /** One dom0: the online plan allocates from /etc/hosts under the lock, as it always has. */
  | { readonly kind: 'files' }
  /** A pool: the registry holds `vmIp` for `hostname`; `names`: the pool names this dom0's /etc/hosts lacked, to materialise. */
  | { readonly kind: 'pool'; readonly hostname: string; readonly vmIp: string; readonly names: ReadonlyArray<readonly [string, string]>; readonly released?: ReadonlyArray<readonly [string, string]> }
  /** A pool whose registry cannot be reached: only a name these files already hold may start (`error` refuses the others). */
  | { readonly kind: 'degraded'; readonly error: VifError };

export interface AddressStore {
  /** Before the files are planned: the address the store holds for this request (registering it if new). */
  reserve(request: AllocationRequest, local: () => Promise<Snapshot>): Promise<Reserved>;
  /** After the files are written: `hostname` runs here with `mac` (moved here when `incoming`); notes for the log. */
  bind(hostname: string, vmIp: string, mac: string, incoming: boolean): Promise<string[]>;
  /** Offline: drop the binding if it is still this host's (never a migrated guest's new one). */
  unbind(hostname: string | undefined, vmIp: string | undefined): Promise<string[]>;
  /** Make the /32 routes to other hosts' guests match the registry as last read; notes for the log. */
  syncRoutes(): Promise<string[]>;
}

/** What the files' planner needs of the store's answer: the pool's address and the names to materialise, or that only known names may start. */
export function poolFields(reserved: Reserved): PoolOnlineFields {
  if (reserved.kind === 'pool') return { pool: { hostname: reserved.hostname, vmIp: reserved.vmIp, names: reserved.names, ...(reserved.released?.length ? { released: reserved.released } : {}) } };
  return reserved.kind === 'degraded' ? { degraded: reserved.error.message } : {};
}

/** Single-host mode: everything happens in the files, under their lock. */
export const filesAddressStore: AddressStore = {
  reserve: async () => ({ kind: 'files' }),
  bind: async () => [],
  unbind: async () => [],
  syncRoutes: async () => [],
};
