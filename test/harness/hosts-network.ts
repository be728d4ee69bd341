// The hosts' network of a pool: one bridge in its own namespace that dom0 sandboxes and etcd members plug into; links can be cut and healed.
import { holder, SETUP_PLAIN, type Namespace } from './sandbox';
import { run, type RunResult } from './processes';

export const HOSTS_PREFIX = 24;

export class HostsNetwork {
  private readonly ports = new Map<string, string>(); // address -> bridge-side port name
  private count = 0;

  private constructor(readonly ns: Namespace) {}

  static async create(): Promise<HostsNetwork> {
    const ns = await holder(['--net'], SETUP_PLAIN);
    const net = new HostsNetwork(ns);
    await net.ip(['-batch', '-'], 'link add br0 type bridge\nlink set br0 up\n');
    return net;
  }

  /** Plug the namespace of `member` into the bridge as `device` with `address`/24. */
  async attach(member: Namespace, device: string, address: string): Promise<void> {
    const port = `hp${++this.count}`;
    await this.ip(['-batch', '-'], `link add ${port} type veth peer name ${device} netns ${member.pid}\nlink set ${port} master br0\nlink set ${port} up\n`);
    const inside = await run('nsenter', ['-t', String(member.pid), '-n', '--', 'ip', '-batch', '-'], { input: `addr add ${address}/${HOSTS_PREFIX} dev ${device}\nlink set ${device} up\n` });
    if (inside.code !== 0) throw new Error(`address ${address} on ${device}: ${inside.stderr}`);
    this.ports.set(address, port);
  }

  /** Cut the member with `address` off the hosts' network (its link stays up on its side, as a switch failure would). */
  cut(address: string): Promise<RunResult> {
    return this.ip(['link', 'set', this.port(address), 'down']);
  }

  heal(address: string): Promise<RunResult> {
    return this.ip(['link', 'set', this.port(address), 'up']);
  }

  async destroy(): Promise<void> {
    await this.ns.holder.stop();
  }

  private port(address: string): string {
    const port = this.ports.get(address);
    if (!port) throw new Error(`nothing attached at ${address}`);
    return port;
  }

  private async ip(args: string[], input?: string): Promise<RunResult> {
    const result = await run('nsenter', ['-t', String(this.ns.pid), '-n', '--', 'ip', ...args], { input });
    if (result.code !== 0) throw new Error(`ip ${args.join(' ')} in the hosts' network: ${result.stderr}`);
    return result;
  }
}
