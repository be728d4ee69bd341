// A pool for the tests: a hosts' network, a real etcd cluster on it, and dom0 sandboxes that share its registry.
import { Sandbox } from './sandbox';
import { HostsNetwork } from './hosts-network';
import { EtcdCluster, type MemberTls } from './etcd-cluster';
import type { Daemon } from './processes';

export const ETCD_ADDRESSES = ['192.168.77.21', '192.168.77.22', '192.168.77.23'];
export const DOM0_ADDRESSES = ['192.168.77.11', '192.168.77.12', '192.168.77.13'];

export interface PoolOptions {
  readonly dom0s?: number;
  readonly members?: number;
  readonly leaseTtlS?: number; // short, so a cut-off host's bindings expire within the test
  readonly resyncS?: number; // the watchers' full pass without a change (default: the product's)
  readonly tls?: MemberTls & { readonly clientCert: string; readonly clientKey: string };
}

export class TestPool {
  readonly watchers = new Map<Sandbox, Daemon>();

  private constructor(readonly net: HostsNetwork, readonly etcd: EtcdCluster, readonly dom0s: Sandbox[]) {}

  static async create(options: PoolOptions = {}): Promise<TestPool> {
    const net = await HostsNetwork.create();
    const dom0s: Sandbox[] = [];
    let etcd: EtcdCluster | undefined;
    try {
      etcd = await EtcdCluster.create(net, ETCD_ADDRESSES.slice(0, options.members ?? 3), options.tls);
      for (const address of DOM0_ADDRESSES.slice(0, options.dom0s ?? 3)) {
        const box = await Sandbox.create({ hostsNetwork: { net, address } });
        dom0s.push(box);
        box.hookEnv = {
          VIF_NAT_DNS_ETCD_ENDPOINTS: etcd.endpoints.join(','),
          VIF_NAT_DNS_POOL_ADDRESS: address,
          VIF_NAT_DNS_POOL_LEASE_TTL: String(options.leaseTtlS ?? 3),
          VIF_NAT_DNS_ETCD_TIMEOUT_MS: '1500',
          ...(options.resyncS ? { VIF_NAT_DNS_POOL_RESYNC_S: String(options.resyncS) } : {}),
          VIF_NAT_DNS_SYSLOG: 'no',
          ...(options.tls ? { VIF_NAT_DNS_ETCD_CA: options.tls.ca, VIF_NAT_DNS_ETCD_CERT: options.tls.clientCert, VIF_NAT_DNS_ETCD_KEY: options.tls.clientKey } : {}),
        };
        await box.startDnsmasq();
      }
      return new TestPool(net, etcd, dom0s);
    } catch (err) {
      for (const box of dom0s) await box.destroy();
      await etcd?.destroy();
      await net.destroy();
      throw err;
    }
  }

  /** `vif-nat-dns-admin pool watch` in every dom0, as its systemd unit runs it. */
  async startWatchers(): Promise<void> {
    for (const box of this.dom0s) {
      const watcher = box.startScript('vif-nat-dns-admin', ['pool', 'watch']);
      this.watchers.set(box, watcher);
      await watcher.waitFor(/watching /);
    }
  }

  /** What to read when a pool test failed: each member's warnings and elections, each watcher's last lines. */
  diagnostics(): string {
    const tail = (text: string, n: number) => text.split('\n').filter(Boolean).slice(-n).join('\n');
    const members = this.etcd.endpoints.map((endpoint, i) => `--- etcd ${endpoint}\n${tail(this.etcd.log(i).split('\n')
      .filter((line) => /"level":"(warn|error)"|leader|took too long|fdatasync/.test(line) && !/established TCP streaming|simple token/.test(line)).join('\n'), 15)}`);
    const watchers = [...this.watchers.values()].map((watcher, i) => `--- watcher of dom0 ${DOM0_ADDRESSES[i]}\n${tail(watcher.output(), 15)}`);
    return [...members, ...watchers].join('\n');
  }

  async destroy(): Promise<void> {
    for (const box of this.dom0s) await box.destroy();
    await this.etcd.destroy();
    await this.net.destroy();
  }
}

/** Poll `probe` until it returns true or `timeoutMs` passes; returns the last value seen. */
export async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}
