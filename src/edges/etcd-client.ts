// etcd v3 over its JSON gateway with node:http(s): range, txn, leases, watch; fails over between members within one deadline.
import type * as http from 'node:http';
import type * as https from 'node:https';
import { readFileSync } from 'node:fs';
import { VifError } from '../core/errors';

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly lease: string; // "0" when none
}

export interface RangeResult {
  readonly kvs: readonly KeyValue[];
  readonly revision: number; // the store's revision when read
}

export type Compare =
  | { readonly key: string; readonly target: 'CREATE'; readonly createRevision: number }
  | { readonly key: string; readonly target: 'MOD'; readonly modRevision: number };

export type TxnOp =
  | { readonly put: { readonly key: string; readonly value: string; readonly lease?: string } }
  | { readonly delete: { readonly key: string } };

export interface TxnResult {
  readonly succeeded: boolean;
  readonly revision: number;
}

export interface WatchEvent {
  readonly type: 'PUT' | 'DELETE';
  readonly kv: KeyValue;
}

export interface EtcdClient {
  range(key: string, options?: { prefix?: boolean }): Promise<RangeResult>;
  /** One transaction: all `compare`s hold -> `success` ops, else `failure` ops; atomic on the cluster. */
  txn(compare: readonly Compare[], success: readonly TxnOp[], failure?: readonly TxnOp[]): Promise<TxnResult>;
  leaseGrant(ttlS: number): Promise<string>;
  /** Refresh a lease; its remaining TTL, 0 when it no longer exists. */
  leaseKeepAlive(id: string): Promise<number>;
  /** Each member's own answer (version, whether it sees a leader), asked directly: for `pool status`. */
  members(): Promise<MemberStatus[]>;
  /** Stream changes under `prefix` from `fromRevision` until `signal` aborts; rejects when the stream breaks. */
  watch(prefix: string, fromRevision: number, onEvents: (events: WatchEvent[], revision: number) => void, signal: AbortSignal): Promise<void>;
}

export interface MemberStatus {
  readonly endpoint: string;
  readonly version?: string;
  readonly leader?: boolean; // this member is the leader
  readonly hasLeader?: boolean;
  readonly error?: string;
}

export interface EtcdOptions {
  readonly endpoints: readonly string[];
  readonly timeoutMs: number;
  readonly tls: { readonly ca?: string; readonly cert?: string; readonly key?: string };
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | undefined) => Buffer.from(text ?? '', 'base64').toString('utf8');

/** The end of the key range holding every key that starts with `prefix` (etcd's "prefix" range_end). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! === 0xff) continue;
    const end = Buffer.from(bytes.subarray(0, i + 1));
    end[i]! += 1;
    return end.toString('base64');
  }
  return b64('\0');
}

interface RawKv { key?: string; value?: string; create_revision?: string; mod_revision?: string; lease?: string }

export function decodeKv(raw: RawKv): KeyValue {
  return {
    key: unb64(raw.key), value: unb64(raw.value),
    createRevision: Number(raw.create_revision ?? 0), modRevision: Number(raw.mod_revision ?? 0), lease: raw.lease ?? '0',
  };
}

function encodeCompare(compare: Compare): object {
  return compare.target === 'CREATE'
    ? { key: b64(compare.key), target: 'CREATE', result: 'EQUAL', create_revision: String(compare.createRevision) }
    : { key: b64(compare.key), target: 'MOD', result: 'EQUAL', mod_revision: String(compare.modRevision) };
}

function encodeOp(op: TxnOp): object {
  if ('put' in op) return { request_put: { key: b64(op.put.key), value: b64(op.put.value), ...(op.put.lease ? { lease: op.put.lease } : {}) } };
  return { request_delete_range: { key: b64(op.delete.key) } };
}

/** The cluster could not answer (members down or unreachable, quorum lost): callers decide whether to degrade. */
export function unavailable(what: string, endpoints: readonly string[], reasons: readonly string[]): VifError {
  return new VifError('POOL_UNAVAILABLE', `the pool registry (etcd at ${endpoints.join(', ')}) did not answer ${what}: ${reasons.join('; ')}`,
    'check that a majority of the etcd members run and are reachable from this dom0 (vif-nat-dns-admin pool status)', { endpoints, reasons });
}

/** A put named a lease that has expired (its host was cut off longer than the TTL): grant a new one and retry. */
export function isLeaseNotFound(err: unknown): boolean {
  return err instanceof VifError && err.details.leaseNotFound === true;
}

class HttpStatusError extends Error {
  constructor(readonly status: number, readonly body: string) { super(`HTTP ${status}: ${body.slice(0, 200)}`); }
}

export function createEtcdClient(options: EtcdOptions): EtcdClient {
  const endpoints = options.endpoints.map((url) => new URL(url));
  const secure = endpoints.some((url) => url.protocol === 'https:');
  // loaded here, not at the top: a single-host hook never pays for node:http, and a plain-HTTP pool never for TLS
  const httpModule: typeof http = require('node:http');
  const httpsModule: typeof https | undefined = secure ? require('node:https') : undefined;
  const tls = secure ? {
    ca: options.tls.ca ? readFileSync(options.tls.ca) : undefined,
    cert: options.tls.cert ? readFileSync(options.tls.cert) : undefined,
    key: options.tls.key ? readFileSync(options.tls.key) : undefined,
  } : {};
  let preferred = 0; // the member that answered last is tried first

  function post(url: URL, path: string, body: object, timeoutMs: number, signal?: AbortSignal, onChunk?: (text: string) => void): Promise<string> {
    return new Promise((resolve, reject) => {
      const payload = JSON.stringify(body);
      const requestOptions = {
        host: url.hostname, port: url.port || (url.protocol === 'https:' ? 443 : 80), path, method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        ...(url.protocol === 'https:' ? tls : {}), signal,
      };
      const request = (url.protocol === 'https:' ? httpsModule!.request : httpModule.request)(requestOptions, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (!onChunk) { text += chunk; return; }
          try { onChunk(chunk); } catch (err) { request.destroy(); reject(err); }
        });
        response.on('end', () => (response.statusCode === 200 ? resolve(text) : reject(new HttpStatusError(response.statusCode ?? 0, text))));
        response.on('error', reject);
      });
      // a timer, not request.setTimeout: that one starts only once connected, and a connect to a member that is down
      // on the hosts' network (ARP, ~3 s) or behind a router that drops it (SYN retries, minutes) would outlast the deadline
      const timer = timeoutMs > 0 ? setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs) : undefined;
      request.on('close', () => clearTimeout(timer));
      request.on('error', reject);
      request.end(payload);
    });
  }

  /**
   * POST to the members in turn (the last good one first) until one answers, all within options.timeoutMs; members
   * that fail fast (down, or no leader during an election) are tried again until then.
   */
  async function call<T>(what: string, path: string, body: object): Promise<T> {
    const deadline = Date.now() + options.timeoutMs;
    const reasons: string[] = [];
    for (let i = 0; ; i++) {
      const index = (preferred + i) % endpoints.length;
      const left = deadline - Date.now();
      if (left <= 0) break;
      if (i > 0 && i % endpoints.length === 0) await new Promise((resolve) => setTimeout(resolve, Math.min(left, 50)));
      // a member that hangs (partitioned, or a minority without quorum) must leave time for the others
      const slice = Math.max(Math.min(left, 200), Math.floor(left / Math.max(1, endpoints.length - (i % endpoints.length))));
      try {
        const text = await post(endpoints[index]!, path, body, slice);
        preferred = index;
        return JSON.parse(text) as T;
      } catch (err) {
        if (err instanceof HttpStatusError && err.status < 500 && !/timed out|no leader|not capable|unavailable/i.test(err.body)) {
          throw new VifError('POOL_UNAVAILABLE', `etcd refused ${what}: ${err.message}`, 'check ETCD_PREFIX, the TLS keys and the member\'s log',
            { status: err.status, body: err.body, leaseNotFound: /lease not found/.test(err.body) });
        }
        if (i < endpoints.length) reasons.push(`${endpoints[index]!.host}: ${(err as Error).message}`);
      }
    }
    throw unavailable(what, options.endpoints, reasons);
  }

  return {
    async range(key, rangeOptions = {}) {
      const raw = await call<{ kvs?: RawKv[]; header?: { revision?: string } }>(`a read of ${key}`, '/v3/kv/range',
        { key: b64(key), ...(rangeOptions.prefix ? { range_end: prefixEnd(key) } : {}) });
      return { kvs: (raw.kvs ?? []).map(decodeKv), revision: Number(raw.header?.revision ?? 0) };
    },
    async txn(compare, success, failure = []) {
      const raw = await call<{ succeeded?: boolean; header?: { revision?: string } }>('a transaction', '/v3/kv/txn',
        { compare: compare.map(encodeCompare), success: success.map(encodeOp), failure: failure.map(encodeOp) });
      return { succeeded: raw.succeeded === true, revision: Number(raw.header?.revision ?? 0) };
    },
    async leaseGrant(ttlS) {
      const raw = await call<{ ID?: string; error?: string }>('a lease grant', '/v3/lease/grant', { TTL: String(ttlS) });
      if (!raw.ID) throw unavailable('a lease grant', options.endpoints, [raw.error ?? 'no lease id']);
      return raw.ID;
    },
    async leaseKeepAlive(id) {
      const raw = await call<{ result?: { TTL?: string } }>('a lease keep-alive', '/v3/lease/keepalive', { ID: id });
      return Number(raw.result?.TTL ?? 0);
    },
    async members() {
      return Promise.all(endpoints.map(async (url, i) => {
        const endpoint = options.endpoints[i]!;
        try {
          const raw = JSON.parse(await post(url, '/v3/maintenance/status', {}, options.timeoutMs)) as { version?: string; leader?: string; header?: { member_id?: string }; errors?: string[] };
          return { endpoint, version: raw.version, leader: raw.leader !== undefined && raw.leader === raw.header?.member_id, hasLeader: (raw.leader ?? '0') !== '0', error: raw.errors?.join('; ') };
        } catch (err) {
          return { endpoint, error: (err as Error).message };
        }
      }));
    },
    async watch(prefix, fromRevision, onEvents, signal) {
      const reasons: string[] = [];
      for (let i = 0; i < endpoints.length; i++) {
        const index = (preferred + i) % endpoints.length;
        let buffered = '';
        let created = false;
        try {
          await post(endpoints[index]!, '/v3/watch', { create_request: { key: b64(prefix), range_end: prefixEnd(prefix), start_revision: String(fromRevision) } }, 0, signal, (chunk) => {
            buffered += chunk;
            for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
              const line = buffered.slice(0, nl).trim();
              buffered = buffered.slice(nl + 1);
              if (!line) continue;
              const message = JSON.parse(line) as { result?: { created?: boolean; canceled?: boolean; cancel_reason?: string; compact_revision?: string; header?: { revision?: string }; events?: Array<{ type?: string; kv?: RawKv }> }; error?: unknown };
              const result = message.result;
              if (!result) throw new Error(`watch stream: ${JSON.stringify(message.error ?? message).slice(0, 200)}`);
              if (result.created) created = true;
              if (result.canceled) throw new Error(`watch canceled: ${result.cancel_reason ?? `compacted at ${result.compact_revision}`}`);
              const events = (result.events ?? []).map((event) => ({ type: event.type === 'DELETE' ? 'DELETE' as const : 'PUT' as const, kv: decodeKv(event.kv ?? {}) }));
              if (events.length > 0) onEvents(events, Number(result.header?.revision ?? 0));
            }
          });
          return; // the member closed the stream cleanly
        } catch (err) {
          if (signal.aborted) return;
          if (created) throw err; // a stream that worked and broke: the caller re-reads and watches again
          reasons.push(`${endpoints[index]!.host}: ${(err as Error).message}`);
        }
      }
      throw unavailable('a watch', options.endpoints, reasons);
    },
  };
}
