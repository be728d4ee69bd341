// A real etcd cluster for the pool tests: Debian's etcd, one member per network namespace on the hosts' network; members can be killed and restarted.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, daemon, type Daemon } from './processes';
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
    // on tmpfs: etcd syncs its log at every commit, and on a disk busy writing back (the lab's images, a build) one
    // fdatasync can outlast a hook's registry budget (1 s for an offline); what the tests check is the pool, not the disk
    const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'vnd-etcd-'));
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

  /** (Re)start member i with its data directory; resolves once it serves clients (a restarted one: once it has caught up). */
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
    if (state === 'existing') await this.settle(m);
  }

  /**
   * Until every running member names the same leader and has applied the same raft index: a test that follows a
   * restart meets a settled cluster, not the restarted member's catching up (asked from `from`'s namespace).
   */
  private async settle(from: Member): Promise<void> {
    const running = this.members.filter((o) => o.process).map((o) => `${this.tls ? 'https' : 'http'}://${o.address}:2379`);
    const tls = this.tls ? { ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key } : undefined;
    await check('nsenter', ['-t', String(from.ns.pid), '-n', '--', process.execPath, '-e', SETTLE_SCRIPT, JSON.stringify({ endpoints: running, tls })], { timeoutMs: 20_000 });
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

/** Polls each member's /v3/maintenance/status until all agree on a leader and on the raft index; exits 1 after 15 s. */
const SETTLE_SCRIPT = `
const fs = require('node:fs');
const { endpoints, tls } = JSON.parse(process.argv[1]);
const options = tls ? { ca: fs.readFileSync(tls.ca), cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) } : {};
const status = (url) => new Promise((resolve) => {
  const u = new URL(url + '/v3/maintenance/status');
  const request = require(u.protocol === 'https:' ? 'node:https' : 'node:http').request(u, { method: 'POST', timeout: 1000, ...options }, (response) => {
    let text = '';
    response.on('data', (chunk) => { text += chunk; });
    response.on('end', () => { try { resolve(JSON.parse(text)); } catch { resolve(undefined); } });
  });
  request.on('error', () => resolve(undefined));
  request.on('timeout', () => request.destroy());
  request.end('{}');
});
const deadline = Date.now() + 15000;
(async function poll() {
  const all = await Promise.all(endpoints.map(status));
  const leaders = new Set(all.map((s) => s && s.leader));
  const indexes = new Set(all.map((s) => s && s.raftIndex));
  if (all.every((s) => s && s.leader && s.leader !== '0') && leaders.size === 1 && indexes.size === 1) return;
  if (Date.now() > deadline) { console.error('etcd did not settle: ' + JSON.stringify(all)); process.exit(1); }
  setTimeout(poll, 100);
})();
`;
