// What a hook queues for the lock holder to apply (online, offline, rollback) and what it gets back; decoded from the spool as untrusted JSON.
import { VifError, type ErrorCode } from './errors';
import type { Allocation } from './allocation';
import type { FileChange } from './plan-online';
import { isStrictIPv4 } from './ipv4';

/** A pool dom0's online also carries what the registry said (src/pool): the address it holds, or why it could not be asked. */
export interface PoolOnlineFields {
  /** The registry's address for this name, and the pool names this dom0's /etc/hosts lacked when the hook looked. */
  readonly pool?: {
    readonly hostname: string; readonly vmIp: string; readonly names: ReadonlyArray<readonly [string, string]>;
    /** [name, address] pairs the pool released (forget --pool) whose lines this /etc/hosts still held: dropped first */
    readonly released?: ReadonlyArray<readonly [string, string]>;
  };
  /** The registry could not be reached (why): only a name the files already hold may start. */
  readonly degraded?: string;
}

export interface OnlineRequestData extends PoolOnlineFields {
  readonly kind: 'online';
  readonly device: string; // the vif (after any rename): its own dom0 address never counts as another holder's
  readonly domainName: string;
  readonly y: number;
  readonly mac: string;
  readonly pinnedIp?: string;
}

export interface OfflineRequestData {
  readonly kind: 'offline';
  readonly device: string;
  readonly domainName?: string;
  readonly y: number;
  readonly mac?: string;
  readonly dom0IpsOnDevice: readonly string[];
  /** `ip -4 addr` as the hook saw it before queueing: [address, devices] pairs. */
  readonly liveAddresses: readonly (readonly [string, readonly string[]])[];
}

/** The rollback of an online that failed after its files step: its own lines, undone against the files as they are then. */
export interface RevertRequestData extends FileChange {
  readonly kind: 'revert';
}

export type BatchRequest = OnlineRequestData | OfflineRequestData | RevertRequestData;

export interface OnlineApplied {
  readonly kind: 'online';
  readonly allocation: Allocation;
  readonly displacedMacs: readonly string[];
  readonly change: FileChange;
  readonly poolConflicts?: readonly string[]; // pool names this /etc/hosts contradicts (left as they are)
}

export interface OfflineApplied {
  readonly kind: 'offline';
  readonly hostname?: string;
  readonly vmIp?: string;
  readonly dom0Ip?: string;
  readonly removedEthersLines: readonly string[];
  readonly keptForLiveVif: readonly string[];
  readonly otherHolder?: string; // another live vif holding this guest's address (a migration hand-over)
}

export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export type RequestResult = OnlineApplied | OfflineApplied | { readonly kind: 'revert' } | { readonly kind: 'error'; readonly error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof VifError) return { code: err.code, message: err.message, hint: err.hint, details: err.details };
  return { code: 'INTERNAL', message: `internal error: ${err instanceof Error ? err.message : String(err)}`, hint: 'report this with the log line', details: {} };
}

export function deserializeError(error: SerializedError): VifError {
  return new VifError(error.code, error.message, error.hint, { ...error.details });
}

const DEVICE = /^[A-Za-z0-9_.:-]{1,15}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function bad(why: string): never {
  throw new VifError('BAD_REQUEST', `queued request rejected: ${why}`, 'the spool directory holds a file vif-nat-dns did not write; remove it', { why });
}

const isString = (v: unknown, max = 1024): v is string => typeof v === 'string' && v.length <= max;
const isY = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 127;
const isLines = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 256 && v.every((l) => isString(l, 2048) && !l.includes('\n'));

const isName = (v: unknown): v is string => isString(v, 63) && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(v);
const isNameAddress = (v: unknown): v is [string, string] => Array.isArray(v) && v.length === 2 && isName(v[0]) && isString(v[1], 15) && isStrictIPv4(v[1]);

function poolFields(r: Record<string, unknown>): PoolOnlineFields {
  const fields: { pool?: PoolOnlineFields['pool']; degraded?: string } = {};
  if (r.degraded !== undefined) {
    if (!isString(r.degraded, 2048)) bad('bad degraded reason');
    fields.degraded = r.degraded;
  }
  if (r.pool !== undefined) {
    const pool = r.pool as Record<string, unknown>;
    if (typeof pool !== 'object' || pool === null || !isName(pool.hostname) || !isString(pool.vmIp, 15) || !isStrictIPv4(pool.vmIp)) bad('bad pool address');
    if (!Array.isArray(pool.names) || pool.names.length > 200_000 || !pool.names.every(isNameAddress)) bad('bad pool names');
    if (pool.released !== undefined && (!Array.isArray(pool.released) || pool.released.length > 200_000 || !pool.released.every(isNameAddress))) bad('bad released pool names');
    fields.pool = { hostname: pool.hostname, vmIp: pool.vmIp, names: pool.names, ...(pool.released ? { released: pool.released } : {}) };
  }
  return fields;
}

/** Validate a request read back from the spool: only root can write there, but a corrupt file must not reach the planner. */
export function decodeRequest(value: unknown): BatchRequest {
  if (typeof value !== 'object' || value === null) bad('not an object');
  const r = value as Record<string, unknown>;
  const device = () => { if (!isString(r.device) || !DEVICE.test(r.device)) bad('bad device'); return r.device; };
  const mac = (optional: boolean) => {
    if (optional && r.mac === undefined) return undefined;
    if (!isString(r.mac) || !MAC.test(r.mac)) bad('bad mac');
    return r.mac;
  };
  if (r.kind === 'online') {
    if (!isString(r.domainName) || r.domainName === '' || !isY(r.y)) bad('bad name or interface');
    if (r.pinnedIp !== undefined && (!isString(r.pinnedIp) || !isStrictIPv4(r.pinnedIp))) bad('bad pinned address');
    return { kind: 'online', device: device(), domainName: r.domainName, y: r.y, mac: mac(false)!, pinnedIp: r.pinnedIp as string | undefined, ...poolFields(r) };
  }
  if (r.kind === 'offline') {
    if ((r.domainName !== undefined && !isString(r.domainName)) || !isY(r.y)) bad('bad name or interface');
    const ips = r.dom0IpsOnDevice;
    if (!Array.isArray(ips) || ips.length > 256 || !ips.every((ip) => isString(ip, 15) && isStrictIPv4(ip))) bad('bad device addresses');
    const live = r.liveAddresses;
    const isDevices = (v: unknown) => Array.isArray(v) && v.length <= 16 && v.every((d) => isString(d, 15) && DEVICE.test(d));
    if (!Array.isArray(live) || live.length > 20_000 || !live.every((p) => Array.isArray(p) && p.length === 2 && isString(p[0], 15) && isStrictIPv4(p[0]) && isDevices(p[1]))) bad('bad live addresses');
    return { kind: 'offline', device: device(), domainName: r.domainName as string | undefined, y: r.y, mac: mac(true), dom0IpsOnDevice: ips as string[], liveAddresses: live as [string, string[]][] };
  }
  if (r.kind === 'revert') {
    if (!isLines(r.addedHostsLines) || !isLines(r.addedEthersLines) || !isLines(r.removedEthersLines)) bad('bad lines');
    return { kind: 'revert', addedHostsLines: r.addedHostsLines, addedEthersLines: r.addedEthersLines, removedEthersLines: r.removedEthersLines };
  }
  return bad(`unknown kind ${JSON.stringify(String(r.kind).slice(0, 20))}`);
}
