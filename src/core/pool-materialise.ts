// What a pool dom0 derives from the registry: every pool name in /etc/hosts, /32 routes to other hosts' guests, its own bindings kept registered; pure.
import { appendHostsLines, hostsLine, removeHostsLines, type HostsFile } from './hosts-file';
import type { EthersFile } from './ethers-file';
import { formatIPv4 } from './ipv4';
import { decode, type Scheme } from './scheme';
import { keys, planBind, type LiveBinding, type RegistrySnapshot, type RegistryTxn } from './registry';
import { VifError } from './errors';
import { splitLines } from './lines';
import type { OnlinePlan } from './plan-online';
import type { PoolOnlineFields } from './batch-request';

export interface HostsMerge {
  readonly hosts: HostsFile;
  readonly added: readonly string[]; // lines appended
  readonly conflicts: readonly string[]; // pool names this file contradicts (left as they are: nothing is overwritten)
}

/** Append a line for each pool name this file lacks; a name or address the file already uses otherwise is reported, not changed. */
export function mergePoolNames(hosts: HostsFile, names: Iterable<readonly [string, string]>): HostsMerge {
  // fast path: names this file already has exactly as we append them ("ip<TAB>name") need no full parse
  let exact: Set<string> | undefined;
  let byName: Map<string, string[]> | undefined;
  let byAddress: Map<string, string[]> | undefined;
  const index = () => {
    byName = new Map();
    byAddress = new Map();
    for (const entry of hosts.entries) {
      for (const name of entry.names) byName.set(name, [...(byName.get(name) ?? []), entry.address]);
      byAddress.set(entry.address, [...(byAddress.get(entry.address) ?? []), ...entry.names]);
    }
  };
  const added: string[] = [];
  const conflicts: string[] = [];
  for (const [name, ip] of names) {
    exact ??= new Set(hosts.lines);
    if (exact.has(hostsLine(ip, name))) continue;
    if (!byName) index();
    const here = byName!.get(name);
    if (here?.includes(ip)) continue;
    if (here) { conflicts.push(`${name} is at ${here.join(', ')} in this /etc/hosts but at ${ip} in the pool`); continue; }
    const others = byAddress!.get(ip);
    if (others) { conflicts.push(`${ip} is ${others.join(', ')} in this /etc/hosts but ${name} in the pool`); continue; }
    added.push(hostsLine(ip, name));
    byName!.set(name, [ip]);
    byAddress!.set(ip, [name]);
  }
  return { hosts: appendHostsLines(hosts, added), added, conflicts };
}

/**
 * The files' plan must agree with the registry: the pool's address for this name, or (registry unreachable) a name
 * the files already hold. A new name gets no address without the registry.
 */
export function checkPoolAgreement(request: PoolOnlineFields, plan: Pick<OnlinePlan, 'allocation' | 'addedHostsLines'>): void {
  const { hostname, vmIp } = plan.allocation;
  if (request.degraded !== undefined && plan.addedHostsLines.length > 0) {
    throw new VifError('POOL_UNAVAILABLE', `${hostname} is new to this dom0 and the pool registry cannot be reached, so it gets no address: ${request.degraded}`,
      'start it once etcd has a quorum again (names this dom0 already knows still start); vif-nat-dns-admin pool status shows the cluster', { hostname });
  }
  if (request.pool && (vmIp !== request.pool.vmIp || hostname !== request.pool.hostname)) {
    throw new VifError('POOL_CONFLICT', `the pool registers ${request.pool.hostname} at ${request.pool.vmIp}, but this dom0's /etc/hosts gives ${hostname} ${vmIp}`,
      `fix or remove the /etc/hosts line for ${hostname} so that it matches the pool (vif-nat-dns-admin pool list)`, { hostname, pool: request.pool.vmIp, here: vmIp });
  }
}

export interface ForgottenDrop {
  readonly hosts: HostsFile;
  readonly removed: readonly string[]; // lines removed
  readonly kept: readonly string[]; // why a forgotten line stays
}

/**
 * Remove the /etc/hosts lines of names the pool released (`forget --pool`): a line is removed only if it is exactly a
 * tombstone's pair (address and that one name), the pool does not hold that name there again, and no /etc/ethers
 * line of this dom0 binds the address (a guest running here unregistered keeps its name; reported instead).
 */
export function dropForgotten(hosts: HostsFile, snapshot: RegistrySnapshot, ethers: EthersFile): ForgottenDrop {
  return dropReleased(hosts, releasedPairs(snapshot), ethers);
}

/** The tombstones' [name, address] pairs the pool has not registered again. */
export function releasedPairs(snapshot: RegistrySnapshot): Array<readonly [string, string]> {
  return [...snapshot.forgotten].filter(([ip, name]) => snapshot.names.get(name)?.ip !== ip).map(([ip, name]) => [name, ip] as const);
}

/** The released pairs whose exact line ("ip<TAB>name") `hostsText` holds: what a hook hands its batch to drop. */
export function releasedIn(hostsText: string, pairs: ReadonlyArray<readonly [string, string]>): Array<readonly [string, string]> {
  if (pairs.length === 0) return [];
  const lines = new Set(splitLines(hostsText).lines);
  return pairs.filter(([name, ip]) => lines.has(hostsLine(ip, name)));
}

/** dropForgotten for the given released [name, address] pairs. */
export function dropReleased(hosts: HostsFile, pairs: ReadonlyArray<readonly [string, string]>, ethers: EthersFile): ForgottenDrop {
  if (pairs.length === 0) return { hosts, removed: [], kept: [] };
  const released = new Map(pairs.map(([name, ip]) => [ip, name]));
  const boundHere = new Set(ethers.entries.map((e) => e.target));
  const remove = new Set<number>();
  const kept: string[] = [];
  for (const entry of hosts.entries) {
    const name = released.get(entry.address);
    if (name === undefined || !entry.names.includes(name)) continue;
    if (entry.names.length !== 1) kept.push(`${name} was released from ${entry.address} in the pool, but line ${entry.index + 1} of /etc/hosts gives that address other names too: edit it by hand`);
    else if (boundHere.has(entry.address)) kept.push(`${name} was released from ${entry.address} in the pool, but /etc/ethers here still binds that address: shut the guest down, then vif-nat-dns-admin pool sync`);
    else remove.add(entry.index);
  }
  return { hosts: removeHostsLines(hosts, remove), removed: [...remove].map((i) => hosts.lines[i]!), kept };
}

/** The names of `names` that `hostsText` lacks exactly as they would be appended: all an online needs to hand its batch. */
export function namesMissingFrom(hostsText: string, names: ReadonlyArray<readonly [string, string]>): Array<readonly [string, string]> {
  const lines = new Set(splitLines(hostsText).lines);
  return names.filter(([name, ip]) => !lines.has(hostsLine(ip, name)));
}

/** Every registered name, as [hostname, VM address]. */
export function poolNames(snapshot: RegistrySnapshot): Array<readonly [string, string]> {
  return [...snapshot.names].map(([name, { ip }]) => [name, ip] as const);
}

/** address -> next hop: each live guest of another live host, through that host's POOL_ADDRESS (like flannel's host-gw). */
export function desiredRoutes(scheme: Scheme, snapshot: RegistrySnapshot, me: string): Map<string, string> {
  const routes = new Map<string, string>();
  for (const binding of snapshot.bindings.values()) {
    if (binding.host === me || !snapshot.hosts.has(binding.host) || decode(scheme, binding.ip)?.side !== 'vm') continue;
    routes.set(binding.ip, binding.host);
  }
  return routes;
}

export interface RouteChanges {
  readonly replace: ReadonlyArray<readonly [string, string]>; // [address, via]
  readonly remove: readonly string[];
}

export function planRoutes(current: ReadonlyMap<string, string>, desired: ReadonlyMap<string, string>): RouteChanges {
  const replace = [...desired].filter(([ip, via]) => current.get(ip) !== via);
  const remove = [...current.keys()].filter((ip) => !desired.has(ip));
  return { replace, remove };
}

export interface Reconciliation {
  readonly changes: ReadonlyArray<{ readonly txn: RegistryTxn; readonly note: string }>;
  readonly notes: readonly string[]; // what was seen and left alone
}

/** How one of this host's /etc/ethers lines, or one of its bindings, stands against the registry. */
export type BindingDrift =
  | { readonly kind: 'here'; readonly hostname: string; readonly ip: string; readonly mac: string; readonly bound?: LiveBinding } // a line; bound: its binding, if ours
  | { readonly kind: 'elsewhere'; readonly hostname: string; readonly ip: string; readonly mac: string; readonly host: string } // a line of a guest another host runs
  | { readonly kind: 'unknown'; readonly ip: string; readonly mac: string } // a line no pool name has the address of
  | { readonly kind: 'stale'; readonly hostname: string; readonly bound: LiveBinding }; // a binding of ours with no line

export function bindingDrift(scheme: Scheme, snapshot: RegistrySnapshot, me: string, ethers: EthersFile): BindingDrift[] {
  const drift: BindingDrift[] = [];
  const here = new Set<string>();
  for (const entry of ethers.entries) {
    if (entry.ipv4 === undefined || decode(scheme, entry.ipv4)?.side !== 'vm') continue;
    const ip = formatIPv4(entry.ipv4);
    const hostname = snapshot.addresses.get(ip);
    if (!hostname) { drift.push({ kind: 'unknown', ip, mac: entry.mac }); continue; }
    here.add(hostname);
    const bound = snapshot.bindings.get(hostname);
    drift.push(bound && bound.host !== me ? { kind: 'elsewhere', hostname, ip, mac: entry.mac, host: bound.host } : { kind: 'here', hostname, ip, mac: entry.mac, bound });
  }
  for (const [hostname, bound] of snapshot.bindings) {
    if (bound.host === me && !here.has(hostname)) drift.push({ kind: 'stale', hostname, bound });
  }
  return drift;
}

/**
 * Bring this host's bindings in the registry in line with its /etc/ethers (the hooks' record of what runs here):
 * a line with no binding is registered (an online while etcd was unreachable, or a lease that expired while cut off);
 * a binding of ours with no line is dropped (an offline that could not reach etcd). A binding another host holds is
 * left alone (the guest migrated, or the conflict is reported).
 */
export function planReconcile(scheme: Scheme, prefix: string, snapshot: RegistrySnapshot, me: string, lease: string, ethers: EthersFile): Reconciliation {
  const changes: Array<{ txn: RegistryTxn; note: string }> = [];
  const notes: string[] = [];
  for (const item of bindingDrift(scheme, snapshot, me, ethers)) {
    if (item.kind === 'unknown') notes.push(`${item.mac} ${item.ip} is in /etc/ethers but no pool name has that address (vif-nat-dns-admin pool import)`);
    else if (item.kind === 'elsewhere') notes.push(`${item.hostname} (${item.ip}) runs on ${item.host} now; /etc/ethers here still binds it to ${item.mac}`);
    else if (item.kind === 'here') {
      const txn = planBind(prefix, snapshot, { hostname: item.hostname, binding: { mac: item.mac, ip: item.ip, host: me }, lease, incoming: false });
      if (txn) changes.push({ txn, note: `registered ${item.hostname} ${item.ip} ${item.mac}` });
    } else {
      const key = keys(prefix).binding(item.hostname);
      changes.push({ txn: { compare: [{ key, target: 'MOD', modRevision: item.bound.modRevision }], success: [{ delete: { key } }] }, note: `dropped ${item.hostname}'s binding: it no longer runs here` });
    }
  }
  return { changes, notes };
}
