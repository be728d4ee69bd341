// Publishes (and withdraws) a guest's network configuration in xenstore, in one transaction, all requests pipelined.
import { planPublish, planUnpublish, type GuestConfig, type XsChange } from '../core/guest-config';
import type { XenStore, XenStoreOps } from '../edges/xenstore';

export function applyChanges(ops: XenStoreOps, changes: readonly XsChange[]): Promise<unknown> {
  return Promise.all(changes.map((change) => {
    switch (change.op) {
      case 'rm': return ops.rm(change.path);
      case 'mkdir': return ops.mkdir(change.path);
      case 'write': return ops.write(change.path, change.value);
      case 'set-perms': return ops.setPerms(change.path, change.perms);
    }
  }));
}

/** The guest's configuration and, in the same transaction, whatever else must appear with it (the backend's hotplug-status). */
export function publishGuestConfig(xs: XenStore, config: GuestConfig, alongside: readonly XsChange[] = []): Promise<unknown> {
  return xs.transaction((tx) => applyChanges(tx, [...planPublish(config), ...alongside]));
}

export function unpublishGuestConfig(xs: XenStore, domid: number, devid: number): Promise<unknown> {
  return applyChanges(xs, planUnpublish(domid, devid));
}
