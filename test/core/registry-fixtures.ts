// Registry snapshots for the pool's table tests, built from [key suffix, value, modRevision?, lease?] rows as etcd returns them.
import { parseSnapshot, type RegistryKv } from '../../src/core/registry';

export const P = '/vnd/';
type Row = [string, string, number?, string?];

export function snap(rows: Row[]) {
  const kvs: RegistryKv[] = rows.map(([key, value, mod, lease]) => ({ key: P + key, value, modRevision: mod ?? 5, lease: lease ?? '0' }));
  return parseSnapshot(P, kvs, 42);
}
export const name = (n: string, ip: string): Row[] => [[`names/${n}`, ip], [`addresses/${ip}`, n]];
export const bound = (n: string, ip: string, mac: string, host: string, mod = 7, lease = '111'): [string, string, number, string] =>
  [`bindings/${n}`, JSON.stringify({ mac, ip, host }), mod, lease];
