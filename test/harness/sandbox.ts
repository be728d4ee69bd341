// A believable dom0 without Xen: namespaced dom0 (private /etc, /run, leases), a lan, domUs on veth "vifs", real dnsmasq, a test xenstored.
import { mkdtempSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { check, daemon, run, type Daemon, type RunResult } from './processes';
import { startFakeXenstored, type FakeXenstored } from './fake-xenstored';
import { hookInvocation, populateVif, type VifSpec } from './xen-domain';
import { runtimeFromEnv, type NodeRuntime } from './runtimes';
import type { HostsNetwork } from './hosts-network';

/** The checkout (found upward from here, so the bundled demo in dist/ finds it too). */
function findRepo(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'hooks', 'vif-nat-dns'))) return dir;
  throw new Error(`cannot find the vif-nat-dns checkout above ${from}`);
}

export const REPO = findRepo(__dirname);
export const HOOK = join(REPO, 'hooks', 'vif-nat-dns');
export const DOMAIN = 'xen.internal';
export const UPLINK = 'eth0';
export const DOM0_UPLINK_IP = '192.0.2.1';
export const LAN_IP = '192.0.2.2';
export const LAN_PORT = 8080;
/** libxl SIGKILLs a hotplug script after 40 s (LIBXL_HOTPLUG_TIMEOUT); the harness does the same to every hook it runs. */
export const LIBXL_HOTPLUG_TIMEOUT_MS = 40_000;
export const POOL_DEVICE = 'pool0';

export interface Namespace {
  readonly pid: number;
  readonly holder: Daemon;
}

export interface Guest {
  readonly domid: number;
  readonly name: string;
  readonly ns: Namespace;
  readonly vifs: VifSpec[];
}

export interface Lease {
  readonly ip: string;
  readonly router: string;
  readonly mask: string;
  readonly dns: string;
}

export interface SandboxOptions {
  readonly etcSize?: string; // tmpfs size of dom0's /etc copy (small to simulate a full disk)
  /** Install the hook in dom0 pinned to this Node and run the installed copy (default: VND_RUNTIME, else the checkout's hooks). */
  readonly runtime?: NodeRuntime;
  /** Join a hosts' network shared with other sandboxes (a pool): dom0 gets `pool0` with this address on it. */
  readonly hostsNetwork?: { readonly net: HostsNetwork; readonly address: string };
}

/** Where a runtime's installed copy lives in dom0 (its private /run): <prefix>/lib, <prefix>/sbin, scripts and code cache. */
const RUNTIME_PREFIX = '/run/vnd-runtime';

const SETUP_DOM0 = `set -e
mount -t tmpfs -o size="$ETC_SIZE",mode=755 vnd-etc "$STAGE"
cp -a /etc/. "$STAGE"/
mount --bind "$STAGE" /etc
mount -t tmpfs -o mode=755 vnd-run /run
mkdir -p /run/dnsmasq /run/lock
mount -t tmpfs -o mode=755 vnd-misc /var/lib/misc
mount -t sysfs vnd-sys /sys
if [ -n "$USR_LAYER" ]; then mount -t overlay -o ro,lowerdir=/usr:"$USR_LAYER" vnd-usr /usr; fi
ip link set lo up
echo "ready $$"
exec sleep infinity`;

export const SETUP_PLAIN = 'ip link set lo up; echo "ready $$"; exec sleep infinity';

export class Sandbox {
  readonly dir: string;
  readonly xs: FakeXenstored;
  readonly dom0: Namespace;
  readonly lan: Namespace;
  private readonly guests = new Map<number, Guest>();
  /** The runtime the installed hook runs on; undefined: the checkout's hooks on the test runner's Node. */
  readonly runtime?: NodeRuntime;
  private dnsmasqDaemon?: Daemon;
  private lanServer?: Daemon;
  private readonly scripts: Daemon[] = [];

  private constructor(dir: string, xs: FakeXenstored, dom0: Namespace, lan: Namespace, runtime: NodeRuntime | undefined) {
    this.dir = dir;
    this.xs = xs;
    this.dom0 = dom0;
    this.lan = lan;
    this.runtime = runtime;
  }

  /** The Node the hook and admin scripts run on (what `install` pins them to). */
  get node(): string {
    return this.runtime?.node ?? process.execPath;
  }

  /** The vif script the toolstack runs: the runtime's installed copy, or the checkout's hooks/vif-nat-dns. */
  get hookPath(): string {
    return this.hookOverride ?? (this.runtime ? join(RUNTIME_PREFIX, 'scripts', 'vif-nat-dns') : HOOK);
  }

  /** An administrator's script (vif-nat-dns-admin, regen-ethers, network-nat-dns): installed, or the checkout's. */
  scriptPath(name: string): string {
    if (!this.runtime) return join(REPO, 'hooks', name);
    return name === 'vif-nat-dns-admin' ? join(RUNTIME_PREFIX, 'sbin', name) : join(RUNTIME_PREFIX, 'scripts', name);
  }

  static async create(options: SandboxOptions = {}): Promise<Sandbox> {
    const runtime = options.runtime ?? (await runtimeFromEnv());
    const dir = mkdtempSync(join(tmpdir(), 'vnd-sandbox-'));
    const stage = join(dir, 'etc');
    mkdirSync(stage);
    const cleanup: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
    try {
      const xs = await startFakeXenstored(join(dir, 'xenstored.socket'));
      cleanup.unshift(() => xs.close());
      const dom0 = await holder(['--net', '--mount', '--propagation', 'private'], SETUP_DOM0, { STAGE: stage, ETC_SIZE: options.etcSize ?? '16m', USR_LAYER: runtime?.usrLayer ?? '' });
      cleanup.unshift(() => dom0.holder.stop());
      const lan = await holder(['--net'], SETUP_PLAIN);
      cleanup.unshift(() => lan.holder.stop());
      const box = new Sandbox(dir, xs, dom0, lan, runtime);
      await box.wireLan();
      if (runtime) await box.installFor(runtime);
      if (options.hostsNetwork) await options.hostsNetwork.net.attach(dom0, POOL_DEVICE, options.hostsNetwork.address);
      return box;
    } catch (err) {
      for (const step of cleanup) await step();
      throw err;
    }
  }

  /** Run a command in dom0 (its network and its private mounts). */
  inDom0(args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
    return run('nsenter', ['-t', String(this.dom0.pid), '-m', '-n', '--', ...args], options);
  }

  inNet(ns: Namespace, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return run('nsenter', ['-t', String(ns.pid), '-n', '--', ...args], options);
  }

  /** Run a command in a guest's network namespace as a program of that guest: its xenstore clients reach the test xenstored as its domid. */
  async inGuest(guest: Guest, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    const socket = await this.xs.listenAsDomain(guest.domid);
    return this.inNet(guest.ns, ['env', `XENSTORED_PATH=${socket}`, ...args], options);
  }

  async dom0File(path: string): Promise<string> {
    const result = await this.inDom0(['cat', path]);
    return result.code === 0 ? result.stdout : '';
  }

  async writeDom0File(path: string, content: string): Promise<void> {
    await checkResult(this.inDom0(['sh', '-c', 'cat > "$1"', 'sh', path], { input: content }), `write ${path}`);
  }

  private async wireLan(): Promise<void> {
    await checkResult(this.inDom0(['ip', 'link', 'add', UPLINK, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(this.lan.pid)]), 'uplink veth');
    await checkResult(this.inDom0(['ip', '-batch', '-'], { input: `addr add ${DOM0_UPLINK_IP}/24 dev ${UPLINK}\nlink set ${UPLINK} up\nroute add default via ${LAN_IP}\n` }), 'dom0 uplink');
    await checkResult(this.inNet(this.lan, ['ip', '-batch', '-'], { input: `addr add ${LAN_IP}/24 dev eth0\nlink set eth0 up\n` }), 'lan side');
    // the "outside world": answers each TCP connection with the address it came from
    this.lanServer = daemon('nsenter', ['-t', String(this.lan.pid), '-n', '--', process.execPath, join(REPO, 'test', 'harness', 'echo-peer.cjs'), LAN_IP, String(LAN_PORT)]);
    await this.lanServer.waitFor(/listening/);
  }

  /** The admin's `install`, run by the runtime's own Node in dom0, so every installed script is pinned to it. */
  private async installFor(runtime: NodeRuntime): Promise<void> {
    await checkResult(this.checkoutAdmin(['install', '--prefix', RUNTIME_PREFIX, '--scripts-dir', join(RUNTIME_PREFIX, 'scripts'),
      '--cache-dir', join(RUNTIME_PREFIX, 'cache')]), `install with ${runtime.name} (${runtime.node})`);
  }

  /** Real dnsmasq in dom0 from the shipped template, as Debian's unit runs it (pid file in /run/dnsmasq). */
  async startDnsmasq(): Promise<void> {
    await checkResult(this.inDom0(['sh', '-c', `mkdir -p /etc/dnsmasq.d && cp "$1" /etc/dnsmasq.d/vif-nat-dns.conf`, 'sh', join(REPO, 'templates', 'dnsmasq.conf')]), 'install dnsmasq template');
    this.dnsmasqDaemon = daemon('nsenter', ['-t', String(this.dom0.pid), '-m', '-n', '--', 'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null',
      '--conf-dir=/etc/dnsmasq.d,*.conf', '--pid-file=/run/dnsmasq/dnsmasq.pid', '--log-facility=-', '--log-dhcp']);
    await this.dnsmasqDaemon.waitFor(/started, version/);
    for (let i = 0; i < 100 && (await this.dom0File('/run/dnsmasq/dnsmasq.pid')) === ''; i++) await sleep(20);
  }

  async stopDnsmasq(): Promise<void> {
    await this.dnsmasqDaemon?.stop();
    this.dnsmasqDaemon = undefined;
  }

  dnsmasqLog(): string {
    return this.dnsmasqDaemon?.output() ?? '';
  }

  /** A domU with one veth per vif: dom0 end named vif<domid>.<devid> (MAC fe:ff:ff:ff:ff:ff as netback uses), guest end eth<devid> with the VM's MAC. */
  async addGuest(domid: number, name: string, macs: readonly string[], extra: Partial<VifSpec> & { headless?: boolean } = {}): Promise<Guest> {
    // headless: the guest end stays in dom0 (named g<domid>.<devid>): enough for the hook, cheap for storms of hundreds
    const ns = extra.headless ? this.dom0 : await holder(['--net'], SETUP_PLAIN);
    const { headless, ...spec } = extra;
    const vifs = macs.map((mac, devid) => ({ domid, devid, name, mac, ...spec }));
    const peer = (devid: number) => (headless ? `g${domid}.${devid}` : `eth${devid} address ${macs[devid]} netns ${ns.pid}`);
    const batch = vifs.map((vif) => `link add vif${domid}.${vif.devid} address fe:ff:ff:ff:ff:ff type veth peer name ${peer(vif.devid)}`).join('\n') + '\n';
    await checkResult(this.inDom0(['ip', '-batch', '-'], { input: batch }), `veths of ${name}`);
    for (const vif of vifs) populateVif(this.xs, vif);
    const guest = { domid, name, ns, vifs };
    this.guests.set(domid, guest);
    return guest;
  }

  /** Destroy a guest as Xen does: the vif devices and the domain's xenstore nodes go away. */
  async destroyGuest(guest: Guest): Promise<void> {
    if (guest.ns === this.dom0) await this.inDom0(['ip', '-force', '-batch', '-'], { input: guest.vifs.map((v) => `link del vif${v.domid}.${v.devid}\n`).join('') });
    else await guest.ns.holder.stop(); // its veth ends die with the namespace, taking the dom0 ends along
    this.xs.rm(`/local/domain/0/backend/vif/${guest.domid}`);
    this.xs.rm(`/local/domain/${guest.domid}`);
    this.guests.delete(guest.domid);
  }

  guest(domid: number): Guest {
    const guest = this.guests.get(domid);
    if (!guest) throw new Error(`no guest with domid ${domid}`);
    return guest;
  }

  /** Environment added to every hook run (e.g. VIF_NAT_DNS_* overrides). */
  hookEnv: Record<string, string> = {};

  /** Another hook script for every runHook (the benchmark's A/B swaps in another build); undefined: hookPath's default. */
  hookOverride: string | undefined;

  /** Run the compiled hook in dom0 as libxl (or xend) runs it, killed after libxl's 40 s (exit 137). */
  runHook(vif: VifSpec, command: 'online' | 'offline' | 'add' | 'remove', extraEnv: Record<string, string> = {}): Promise<RunResult> {
    const { args, env } = hookInvocation(vif, command, this.xs.socketPath);
    if (command === 'offline') {
      // libxl marks the backend offline and waits for Closed before it runs the script (libxl_device.c)
      const be = `/local/domain/0/backend/vif/${vif.domid}/${vif.devid}`;
      if (this.xs.read(`${be}/online`) !== undefined) { this.xs.write(`${be}/online`, '0'); this.xs.write(`${be}/state`, '6'); }
    } else if (command === 'online') {
      const be = `/local/domain/0/backend/vif/${vif.domid}/${vif.devid}`;
      if (this.xs.read(`${be}/online`) !== undefined) this.xs.write(`${be}/online`, '1');
    }
    return run('/usr/bin/nsenter', ['-t', String(this.dom0.pid), '-m', '-n', '--', this.hookPath, ...args], { env: { ...env, ...this.hookEnv, ...extraEnv }, timeoutMs: LIBXL_HOTPLUG_TIMEOUT_MS });
  }

  /** Run an administrator's script (see scriptPath) in dom0 as an administrator would, with the test xenstored. */
  runScript(name: string, args: readonly string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
    return run('/usr/bin/nsenter', ['-t', String(this.dom0.pid), '-m', '-n', '--', this.scriptPath(name), ...args], { env: this.adminEnv(extraEnv), timeoutMs: 45_000 });
  }

  /** An administrator's environment in dom0, with the test xenstored (and a runtime's installed admin on PATH, as a custom prefix's is). */
  private adminEnv(extraEnv: Record<string, string> = {}): Record<string, string> {
    const path = `${this.runtime ? `${join(RUNTIME_PREFIX, 'sbin')}:` : ''}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
    return { PATH: path, XENSTORED_PATH: this.xs.socketPath, ...this.hookEnv, ...extraEnv };
  }

  /** The checkout's admin CLI (dist/admin.cjs) on the sandbox's Node in dom0: what `install` and `uninstall` run from. */
  checkoutAdmin(args: readonly string[]): Promise<RunResult> {
    return this.inDom0([this.node, join(REPO, 'dist', 'admin.cjs'), ...args], { env: this.adminEnv() });
  }

  /** Start a long-running script of this checkout in dom0 (e.g. `vif-nat-dns-admin pool watch`); it dies with the sandbox's run. */
  startScript(name: string, args: readonly string[], extraEnv: Record<string, string> = {}): Daemon {
    const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', XENSTORED_PATH: this.xs.socketPath, ...this.hookEnv, ...extraEnv };
    const started = daemon('nsenter', ['-t', String(this.dom0.pid), '-m', '-n', '--', join(REPO, 'hooks', name), ...args], { env });
    this.scripts.push(started);
    return started;
  }

  async dhcp(guest: Guest, devid = 0): Promise<Lease | undefined> {
    const iface = `eth${devid}`;
    const result = await this.inNet(guest.ns, ['sh', '-c', 'ip link set "$1" up && exec udhcpc -i "$1" -f -q -n -t 5 -T 1 -A 1 -s "$2"', 'sh', iface, join(REPO, 'test', 'harness', 'udhcpc-script.sh')], { timeoutMs: 15_000 });
    const match = /LEASE ip=(\S*) mask=(\S*) router=(\S*) dns=(\S*)/.exec(result.stdout);
    return match ? { ip: match[1]!, mask: match[2]!, router: match[3]!, dns: match[4]! } : undefined;
  }

  async dig(guest: Guest, server: string, name: string): Promise<string> {
    const result = await this.inNet(guest.ns, ['dig', '+short', '+time=1', '+tries=3', `@${server}`, name, 'A']);
    return result.stdout.trim();
  }

  /** What the lan server saw as our source address, or '' when unreachable. */
  async egress(guest: Guest): Promise<string> {
    const result = await this.inNet(guest.ns, ['timeout', '5', 'bash', '-c', `exec 3<>/dev/tcp/${LAN_IP}/${LAN_PORT} && cat <&3`]);
    return result.stdout.trim();
  }

  async destroy(): Promise<void> {
    for (const script of this.scripts) await script.stop();
    for (const guest of this.guests.values()) if (guest.ns !== this.dom0) await guest.ns.holder.stop();
    this.guests.clear();
    await this.stopDnsmasq();
    await this.lanServer?.stop();
    await this.lan.holder.stop();
    await this.dom0.holder.stop();
    await this.xs.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A process holding new namespaces (`unshareArgs`) after running `script`; it dies with the test run. */
export async function holder(unshareArgs: readonly string[], script: string, env: Record<string, string> = {}): Promise<Namespace> {
  const d = daemon('unshare', [...unshareArgs, '--kill-child=KILL', '--', 'sh', '-c', script], { env: { ...process.env, ...env } });
  try {
    const match = await d.waitFor(/ready (\d+)/);
    return { pid: Number(match[1]), holder: d };
  } catch (err) {
    await d.stop();
    throw err;
  }
}

async function checkResult(promise: Promise<RunResult>, what: string): Promise<RunResult> {
  const result = await promise;
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export { check };
