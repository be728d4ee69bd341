// dnsmasq: SIGHUP by pid file (checked to really be dnsmasq), lease lookup, and dhcp_release of a lease held by an old MAC.
import { readText } from './fs-text';
import type { Exec } from './exec';

export type ReloadResult =
  | { readonly signalled: number; readonly pidFile: string }
  | { readonly warning: string };

export interface Dnsmasq {
  locate(): Promise<{ pid: number; pidFile: string } | { warning: string }>;
  reload(): Promise<ReloadResult>;
  /** MACs holding a lease on `ip` in the lease file (expiry mac ip name clientid). */
  leaseHolders(ip: string): Promise<string[]>;
  release(device: string, ip: string, mac: string): Promise<void>;
}

export function parseLeaseHolders(leases: string, ip: string): string[] {
  const macs: string[] = [];
  for (const line of leases.split('\n')) {
    const [, mac, address] = line.trim().split(/\s+/);
    if (address === ip && mac) macs.push(mac.toLowerCase());
  }
  return macs;
}

export function createDnsmasq(pidFiles: readonly string[], leaseFile: string, exec: Exec, procRoot = '/proc',
  kill: (pid: number, signal: NodeJS.Signals) => void = (pid, signal) => process.kill(pid, signal)): Dnsmasq {
  /** The running dnsmasq named by the first usable pid file; never trusts a pid that is not dnsmasq. */
  async function locate(): Promise<{ pid: number; pidFile: string } | { warning: string }> {
    const notes: string[] = [];
    for (const pidFile of pidFiles) {
      const text = await readText(pidFile).catch(() => undefined);
      if (text === undefined) continue;
      const pid = /^\s*(\d+)\s*$/.test(text) ? Number(text.trim()) : NaN;
      if (!(pid > 1)) { notes.push(`${pidFile} holds no pid`); continue; }
      const comm = (await readText(`${procRoot}/${pid}/comm`).catch(() => '')).trim();
      if (comm === 'dnsmasq') return { pid, pidFile };
      notes.push(`${pidFile} names pid ${pid}, which is ${comm ? `"${comm}", not dnsmasq` : 'not running'} (stale pid file)`);
    }
    return { warning: notes.length ? notes.join('; ') : `no pid file at ${pidFiles.join(' or ')}` };
  }

  return {
    locate,
    async reload() {
      const found = await locate();
      if ('warning' in found) {
        return { warning: `dnsmasq not reloaded: ${found.warning}; start dnsmasq (or set DNSMASQ_PID_FILES) so guests get DHCP and DNS` };
      }
      try {
        kill(found.pid, 'SIGHUP');
        return { signalled: found.pid, pidFile: found.pidFile };
      } catch (err) {
        return { warning: `dnsmasq not reloaded: SIGHUP to pid ${found.pid} failed: ${(err as Error).message}` };
      }
    },
    async leaseHolders(ip) {
      return parseLeaseHolders(await readText(leaseFile).catch(() => ''), ip);
    },
    async release(device, ip, mac) {
      await exec('dhcp_release', [device, ip, mac], { check: true });
    },
  };
}
