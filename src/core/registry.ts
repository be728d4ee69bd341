// The pool registry's model: key layout under ETCD_PREFIX, a snapshot read from etcd, and the transactions that change it; pure.
import { allocate, usedMachines, type AllocationRequest } from './allocation';
import { VifError } from './errors';
import { parseEthers } from './ethers-file';
import { fieldsOf } from './lines';
import { parseHosts } from './hosts-file';
import { isStrictIPv4 } from './ipv4';
import { isLegalHostname } from './hostname';
import { normalizeMac } from './mac';
import { decode, type Scheme } from './scheme';

/** A key/value as etcd returns it (the edge decodes base64 and revisions). */
export interface RegistryKv {
  readonly key: string;
  readonly value: string;
  readonly modRevision: number;
  readonly lease: string;
}

export interface RegisteredName { readonly ip: string; readonly modRevision: number }
export interface Binding { readonly mac: string; readonly ip: string; readonly host: string }
export interface LiveBinding extends Binding { readonly modRevision: number; readonly lease: string }
export interface PoolHost { readonly address: string; readonly lease: string; readonly modRevision: number }

/** Everything in the registry at one revision. Names keep their numbers for ever; bindings and hosts live on leases. */
export interface RegistrySnapshot {
  readonly revision: number;
  readonly names: ReadonlyMap<string, RegisteredName>; // hostname -> VM address
  readonly addresses: ReadonlyMap<string, string>; // VM address -> hostname (the uniqueness guard)
  readonly bindings: ReadonlyMap<string, LiveBinding>; // hostname -> where it runs now
  readonly hosts: ReadonlyMap<string, PoolHost>; // POOL_ADDRESS -> its lease
  readonly forgotten: ReadonlyMap<string, string>; // VM address -> the name a pool-wide forget last released from it
}

export type TxnCompare = { readonly key: string; readonly target: 'CREATE'; readonly createRevision: 0 } | { readonly key: string; readonly target: 'MOD'; readonly modRevision: number };
export type TxnPut = { readonly put: { readonly key: string; readonly value: string; readonly lease?: string } };
export type TxnDelete = { readonly delete: { readonly key: string } };

export interface RegistryTxn {
  readonly compare: readonly TxnCompare[];
  readonly success: ReadonlyArray<TxnPut | TxnDelete>;
}

export const keys = (prefix: string) => ({
  name: (hostname: string) => `${prefix}names/${hostname}`,
  address: (ip: string) => `${prefix}addresses/${ip}`,
  binding: (hostname: string) => `${prefix}bindings/${hostname}`,
  host: (address: string) => `${prefix}hosts/${address}`,
  forgotten: (ip: string) => `${prefix}forgotten/${ip}`,
});

const absent = (key: string): TxnCompare => ({ key, target: 'CREATE', createRevision: 0 });
const unchanged = (key: string, modRevision: number): TxnCompare => ({ key, target: 'MOD', modRevision });

/**
 * Read the range of every key under `prefix`; keys of other shapes (a newer version's) are ignored, and so is anything
 * that is not exactly what a hook writes (a legal hostname, a strict IPv4 address, a MAC): what lands in /etc/hosts,
 * /etc/ethers and the routing table from here cannot carry a newline, a blank or an option.
 */
export function parseSnapshot(prefix: string, kvs: readonly RegistryKv[], revision: number): RegistrySnapshot {
  const names = new Map<string, RegisteredName>();
  const addresses = new Map<string, string>();
  const bindings = new Map<string, LiveBinding>();
  const hosts = new Map<string, PoolHost>();
  const forgotten = new Map<string, string>();
  for (const kv of kvs) {
    if (!kv.key.startsWith(prefix)) continue;
    const [kind, id, extra] = kv.key.slice(prefix.length).split('/');
    if (!kind || !id || extra !== undefined) continue;
    if (kind === 'names' && isLegalHostname(id) && isStrictIPv4(kv.value)) names.set(id, { ip: kv.value, modRevision: kv.modRevision });
    else if (kind === 'addresses' && isStrictIPv4(id) && isLegalHostname(kv.value)) addresses.set(id, kv.value);
    else if (kind === 'bindings' && isLegalHostname(id)) {
      const binding = parseJson<Partial<Binding>>(kv.value);
      const mac = typeof binding?.mac === 'string' ? normalizeMac(binding.mac) : undefined;
      if (mac && typeof binding?.ip === 'string' && isStrictIPv4(binding.ip) && typeof binding.host === 'string' && isStrictIPv4(binding.host)) {
        bindings.set(id, { mac, ip: binding.ip, host: binding.host, modRevision: kv.modRevision, lease: kv.lease });
      }
    } else if (kind === 'hosts' && isStrictIPv4(id)) hosts.set(id, { address: id, lease: kv.lease, modRevision: kv.modRevision });
    else if (kind === 'forgotten' && isStrictIPv4(id) && isLegalHostname(kv.value)) forgotten.set(id, kv.value);
  }
  return { revision, names, addresses, bindings, hosts, forgotten };
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** The registry's names as /etc/hosts text (one `ip<TAB>name` line each), so allocation runs the very rules the files use. */
export function namesAsHostsText(snapshot: RegistrySnapshot): string {
  let text = '';
  for (const [name, { ip }] of snapshot.names) text += `${ip}\t${name}\n`;
  return text;
}

export type Reservation =
  | { readonly kind: 'registered'; readonly hostname: string; readonly vmIp: string }
  | { readonly kind: 'reserve'; readonly hostname: string; readonly vmIp: string; readonly txn: RegistryTxn; readonly names: ReadonlyArray<readonly [string, string]> };

/**
 * Where `request`'s hostname lives in the pool: already registered, or the transaction that registers it (and its
 * first interface's name for a domain new to the pool) only if no other host took those names or addresses meanwhile.
 * Numbers used in this dom0's own files (`local`) are never handed out, so an un-imported name is not shadowed;
 * `skipFree` > 0 takes a higher free number, so hosts that keep losing the race for the lowest one spread out.
 */
export function planReservation(scheme: Scheme, prefix: string, snapshot: RegistrySnapshot, request: AllocationRequest,
  local: { hosts: string; ethers: string } = { hosts: '', ethers: '' }, skipFree = 0): Reservation {
  const registered = parseHosts(namesAsHostsText(snapshot));
  const used = () => usedMachines(scheme, registered, parseEthers(local.ethers), parseHosts(local.hosts));
  const allocation = allocate(scheme, registered, parseEthers(local.ethers), request, used, skipFree);
  if (allocation.newHostsLines.length === 0) return { kind: 'registered', hostname: allocation.hostname, vmIp: allocation.vmIp };
  const k = keys(prefix);
  const names = allocation.newHostsLines.map((line) => fieldsOf(line, true) as [string, string]).map(([ip, name]) => [name, ip] as const);
  return {
    kind: 'reserve', hostname: allocation.hostname, vmIp: allocation.vmIp, names,
    txn: {
      compare: names.flatMap(([name, ip]) => [absent(k.name(name)), absent(k.address(ip))]),
      success: names.flatMap(([name, ip]) => [{ put: { key: k.name(name), value: ip } }, { put: { key: k.address(ip), value: name } }]),
    },
  };
}

export interface BindRequest {
  readonly hostname: string;
  readonly binding: Binding;
  readonly lease: string;
  readonly incoming: boolean; // the domain arrives by live migration (xl's <name>--incoming)
}

/**
 * Record that `hostname` runs here now. A binding another host holds for another MAC is a second running domain
 * of the same name and is refused, unless this is a migration's receiving side (then the binding moves here).
 */
export function planBind(prefix: string, snapshot: RegistrySnapshot, request: BindRequest): RegistryTxn | undefined {
  const key = keys(prefix).binding(request.hostname);
  const current = snapshot.bindings.get(request.hostname);
  const { binding } = request;
  if (current && current.host === binding.host && current.mac === binding.mac && current.ip === binding.ip && current.lease === request.lease) return undefined;
  if (current && current.host !== binding.host && current.mac !== binding.mac && !request.incoming) {
    throw new VifError('ADDRESS_IN_USE', `${request.hostname} (${current.ip}) runs on pool host ${current.host} with MAC ${current.mac}`,
      `two running domains derive the hostname ${request.hostname}: rename one or shut the other down; if ${current.host} is dead, its binding expires within POOL_LEASE_TTL seconds`,
      { hostname: request.hostname, address: current.ip, otherHost: current.host, otherMac: current.mac });
  }
  return {
    compare: [current ? unchanged(key, current.modRevision) : absent(key)],
    success: [{ put: { key, value: JSON.stringify({ mac: binding.mac, ip: binding.ip, host: binding.host }), lease: request.lease } }],
  };
}

/** Drop `hostname`'s binding only while it is still this host's: a migrated guest's sender never takes it back. */
export function planUnbind(prefix: string, snapshot: RegistrySnapshot, hostname: string, host: string): RegistryTxn | undefined {
  const current = snapshot.bindings.get(hostname);
  if (!current || current.host !== host) return undefined;
  const key = keys(prefix).binding(hostname);
  return { compare: [unchanged(key, current.modRevision)], success: [{ delete: { key } }] };
}

/** This host's record, on a new lease (the old one expired or never existed), replacing exactly what was read. */
export function planHostLease(prefix: string, snapshot: RegistrySnapshot, host: string, lease: string): RegistryTxn {
  const key = keys(prefix).host(host);
  const current = snapshot.hosts.get(host);
  return {
    compare: [current ? unchanged(key, current.modRevision) : absent(key)],
    success: [{ put: { key, value: JSON.stringify({ address: host }), lease } }],
  };
}

/** Registering names that exist only in this dom0's files (import): each one, unless the pool holds it or its address. */
export interface ImportPlan {
  readonly register: ReadonlyArray<readonly [string, string]>; // [hostname, ip]
  readonly already: readonly string[]; // registered at the same address
  readonly conflicts: readonly string[]; // one line each: what clashes with what
}

export function planImport(scheme: Scheme, snapshot: RegistrySnapshot, local: ReadonlyArray<readonly [string, string]>): ImportPlan {
  const register: Array<readonly [string, string]> = [];
  const already: string[] = [];
  const conflicts: string[] = [];
  const takenNames = new Map([...snapshot.names].map(([name, { ip }]) => [name, ip]));
  const takenAddresses = new Map(snapshot.addresses);
  for (const [name, ip] of local) {
    if (decode(scheme, ip)?.side !== 'vm') continue;
    const registered = takenNames.get(name);
    const holder = takenAddresses.get(ip);
    if (registered === ip && (holder === undefined || holder === name)) { already.push(name); continue; }
    if (registered !== undefined) { conflicts.push(`${name}: here ${ip}, in the pool ${registered}`); continue; }
    if (holder !== undefined) { conflicts.push(`${name}: ${ip} is ${holder}'s in the pool`); continue; }
    register.push([name, ip]);
    takenNames.set(name, ip);
    takenAddresses.set(ip, name);
  }
  return { register, already, conflicts };
}

/** The transaction registering one imported name: only if neither the name nor the address appeared meanwhile. */
export function importTxn(prefix: string, name: string, ip: string): RegistryTxn {
  const k = keys(prefix);
  return {
    compare: [absent(k.name(name)), absent(k.address(ip))],
    success: [{ put: { key: k.name(name), value: ip } }, { put: { key: k.address(ip), value: name } }],
  };
}

/** Releasing pool names on every dom0 (`forget --pool`, `gc --pool`): one transaction per name, and what was refused. */
export interface PoolForgetPlan {
  readonly release: ReadonlyArray<{ readonly name: string; readonly ip: string; readonly txn: RegistryTxn }>;
  readonly refused: readonly string[]; // a name that runs somewhere, with where
}

/**
 * Every pool name of `machines` (all their interfaces): deleted with its address guard, and a tombstone
 * `forgotten/<ip>` = name left so every dom0's watcher removes that /etc/hosts line; only if the name is unchanged
 * since the snapshot and not bound. A binding of this host is released too when `force` (the guest runs here and the
 * admin insists); another host's binding never is (shut the guest down there first).
 */
export function planPoolForget(scheme: Scheme, prefix: string, snapshot: RegistrySnapshot, machines: ReadonlySet<number>, me: string, force: boolean): PoolForgetPlan {
  const k = keys(prefix);
  const release: Array<{ name: string; ip: string; txn: RegistryTxn }> = [];
  const refused: string[] = [];
  for (const [name, { ip, modRevision }] of snapshot.names) {
    const addr = decode(scheme, ip);
    if (!addr || addr.side !== 'vm' || !machines.has(addr.machine)) continue;
    const bound = snapshot.bindings.get(name);
    if (bound && (bound.host !== me || !force)) {
      refused.push(`${name} (${ip}) runs on ${bound.host === me ? 'this dom0' : `pool host ${bound.host}`}`);
      continue;
    }
    const compare = [unchanged(k.name(name), modRevision), bound ? unchanged(k.binding(name), bound.modRevision) : absent(k.binding(name))];
    const success: Array<TxnPut | TxnDelete> = [{ delete: { key: k.name(name) } }, { delete: { key: k.address(ip) } }, { put: { key: k.forgotten(ip), value: name } }];
    if (bound) success.push({ delete: { key: k.binding(name) } });
    release.push({ name, ip, txn: { compare, success } });
  }
  return { release, refused };
}

/** The machine numbers of the pool's names for which `pick(name, interface)` holds; `bound`: of the names with a live binding instead. */
export function poolMachines(scheme: Scheme, snapshot: RegistrySnapshot, pick: (name: string, y: number) => boolean, bound = false): Set<number> {
  const machines = new Set<number>();
  const ips = bound ? [...snapshot.bindings].map(([name, b]) => [name, b.ip] as const) : [...snapshot.names].map(([name, { ip }]) => [name, ip] as const);
  for (const [name, ip] of ips) {
    const addr = decode(scheme, ip);
    if (addr?.side === 'vm' && pick(name, addr.y)) machines.add(addr.machine);
  }
  return machines;
}
