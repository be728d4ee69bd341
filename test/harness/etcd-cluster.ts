// A real etcd cluster for the pool tests: Debian's etcd, one member per network namespace on the hosts' network; members can be killed and restarted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemon, type Daemon } from './processes';
import { holder, SETUP_PLAIN, type Namespace } from './sandbox';
import type { HostsNetwork } from './hosts-network';

export interface MemberTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

interface Member {
  readonly name: string;
  readonly address: string;
  readonly ns: Namespace;
  process?: Daemon;
}

export class EtcdCluster {
  private constructor(readonly dir: string, private readonly members: Member[], private readonly tls?: MemberTls) {}

  /** Start `addresses.length` members (tls: clients must present a certificate signed by tls.ca). */
  static async create(net: HostsNetwork, addresses: readonly string[], tls?: MemberTls): Promise<EtcdCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'vnd-etcd-'));
    const members: Member[] = [];
    const cluster = new EtcdCluster(dir, members, tls);
    try {
      for (const [i, address] of addresses.entries()) {
        const ns = await holder(['--net'], SETUP_PLAIN);
        members.push({ name: `m${i + 1}`, address, ns });
        await net.attach(ns, 'eth0', address);
      }
      await Promise.all(members.map((_, i) => cluster.start(i, 'new')));
      return cluster;
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
  }

  get endpoints(): string[] {
    return this.members.map((m) => `${this.tls ? 'https' : 'http'}://${m.address}:2379`);
  }

  address(i: number): string {
    return this.members[i]!.address;
  }

  /** (Re)start member i with its data directory; resolves once it serves clients. */
  async start(i: number, state: 'new' | 'existing' = 'existing'): Promise<void> {
    const m = this.members[i]!;
    const scheme = this.tls ? 'https' : 'http';
    const cluster = this.members.map((o) => `${o.name}=http://${o.address}:2380`).join(',');
    const args = [
      '--name', m.name, '--data-dir', join(this.dir, m.name),
      '--listen-client-urls', `${scheme}://${m.address}:2379`, '--advertise-client-urls', `${scheme}://${m.address}:2379`,
      '--listen-peer-urls', `http://${m.address}:2380`, '--initial-advertise-peer-urls', `http://${m.address}:2380`,
      '--initial-cluster', cluster, '--initial-cluster-state', state, '--initial-cluster-token', 'vnd-test',
      // short election timeouts: a lost member or quorum shows within a second, so the tests stay short
      '--heartbeat-interval', '50', '--election-timeout', '500', '--log-level', 'info', '--logger', 'zap',
      ...(this.tls ? ['--cert-file', this.tls.cert, '--key-file', this.tls.key, '--trusted-ca-file', this.tls.ca, '--client-cert-auth'] : []),
    ];
    m.process = daemon('nsenter', ['-t', String(m.ns.pid), '-n', '--', 'etcd', ...args], { env: { PATH: process.env.PATH, ETCD_UNSUPPORTED_ARCH: '' } });
    await m.process.waitFor(/serving client traffic|ready to serve client requests/, 20_000);
  }

  /** Kill member i as a crash would (SIGKILL). */
  async kill(i: number): Promise<void> {
    await this.members[i]!.process?.stop();
    this.members[i]!.process = undefined;
  }

  log(i: number): string {
    return this.members[i]!.process?.output() ?? '';
  }

  async destroy(): Promise<void> {
    for (const m of this.members) {
      await m.process?.stop();
      await m.ns.holder.stop();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
