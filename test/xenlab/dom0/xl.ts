// Inside the lab's dom0: the real xl, xenstore and dom0's files, plus the guests' console reports, for the scenarios.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { check, run, type RunResult } from '../../harness/processes';
import { parseGuestReports, type Boot } from '../guest-reports';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (dom0-init.sh sets it)`);
  return value;
}

export const IMAGES = required('vndlab_images');
export const LAN = required('VNDLAB_LAN'); // ip:port of the lan's echo peer
export const UPLINK_IP = required('VNDLAB_UPLINK_IP');
export const DOMAIN = 'xen.internal';
const CONFIG_DIR = '/run/vndlab-configs';

export interface GuestSpec {
  readonly name: string;
  readonly vifs: readonly string[]; // xl vif specs, e.g. 'script=vif-nat-dns' ('' = xl.conf's defaults)
  readonly lookup?: string; // the name the guest resolves through its router (default: <name>.xen.internal)
  readonly then?: 'poweroff';
  readonly net?: 'xenstore'; // no DHCP client: the guest script configures each NIC from what the hook published
  readonly hvm?: boolean; // an HVM guest (QEMU's direct kernel boot of the same kernel), its console on the emulated serial port
  readonly memory?: number;
}

/** Debian's kernel: 72 MiB is refused by libxc (the kernel segment alone is 58 MiB), 80 MiB crashes while booting, 88 MiB works. */
export const GUEST_MEMORY_MIB = Number(process.env.vndlab_guest_mem ?? 88);
/** The DHCP-less guest's image carries xenstore-utils and libc (~2.6 MB more): 88 MiB panics while unpacking it. */
const XENSTORE_GUEST_MEMORY_MIB = GUEST_MEMORY_MIB + 16;

/** An HVM guest under QEMU's device model: 192 MiB was enough to boot it (not measured lower). */
const HVM_GUEST_MEMORY_MIB = 192;

export function guestConfig(spec: GuestSpec): string {
  const words = [spec.hvm ? 'console=ttyS0' : 'console=hvc0', 'quiet', `vndlab_lookup=${spec.lookup ?? `${spec.name.toLowerCase()}.${DOMAIN}`}`, `vndlab_egress=${LAN}`];
  if (spec.then) words.push(`vndlab_then=${spec.then}`);
  if (spec.net) words.push(`vndlab_net=${spec.net}`);
  const ramdisk = `ramdisk = "${IMAGES}/${spec.net === 'xenstore' ? 'guest-xenstore-initrd' : 'guest-initrd'}.cpio.gz"`;
  const memory = spec.memory ?? (spec.hvm ? HVM_GUEST_MEMORY_MIB : spec.net === 'xenstore' ? XENSTORE_GUEST_MEMORY_MIB : GUEST_MEMORY_MIB);
  const boot = spec.hvm
    ? ['type = "hvm"', `kernel = "${IMAGES}/vmlinuz"`, ramdisk, `cmdline = "${words.join(' ')}"`, `serial = "file:/var/log/xen/console/guest-${spec.name}.log"`, 'vnc = 0', 'sdl = 0']
    : ['type = "pv"', `kernel = "${IMAGES}/vmlinux"`, ramdisk, `extra = "${words.join(' ')}"`];
  return [
    `name = "${spec.name}"`, ...boot, `memory = ${memory}`, 'vcpus = 1',
    `vif = [ ${spec.vifs.map((v) => `'${v}'`).join(', ')} ]`, 'on_reboot = "restart"', 'on_poweroff = "destroy"', '',
  ].join('\n');
}

export function writeGuestConfig(spec: GuestSpec): string {
  mkdirSync(CONFIG_DIR, { recursive: true });
  const path = `${CONFIG_DIR}/${spec.name}.cfg`;
  writeFileSync(path, guestConfig(spec));
  return path;
}

/** The real xl; its output is stdout+stderr together, as an administrator sees it. */
export async function xl(args: readonly string[], timeoutMs = 180_000): Promise<RunResult & { output: string }> {
  const result = await run('xl', args, { timeoutMs });
  return { ...result, output: `${result.stdout}${result.stderr}` };
}

export async function domid(name: string): Promise<number | undefined> {
  const result = await run('xl', ['domid', name]);
  return result.code === 0 ? Number(result.stdout.trim()) : undefined;
}

export async function runningNames(): Promise<string[]> {
  const result = await check('xl', ['list']);
  return result.stdout.split('\n').slice(1).map((l) => l.split(/\s+/)[0]!).filter((n) => n && n !== 'Domain-0');
}

export async function xsRead(path: string): Promise<string | undefined> {
  const result = await run('xenstore-read', [path]);
  return result.code === 0 ? result.stdout.trim() : undefined;
}

export function fileText(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** dom0's route to a guest address ('' when none). */
export async function routeTo(ip: string): Promise<string> {
  return (await check('ip', ['-4', 'route', 'show', `${ip}/32`])).stdout.trim();
}

export function hostsLine(ip: string): string {
  return fileText('/etc/hosts').split('\n').find((l) => l.split(/\s+/)[0] === ip) ?? '';
}

export function ethersLines(): string[] {
  return fileText('/etc/ethers').split('\n').filter((l) => /^[0-9a-f]{2}:/i.test(l));
}

/** The hook's event lines ("vif-nat-dns[pid]: online vif3.0: ...") in a toolstack's output. */
export function hookLines(output: string): string[] {
  return output.split('\n').filter((l) => /^vif-nat-dns\[\d+\]: /.test(l));
}

/** The hook's own duration, from its event line ("...; 52 ms, lock wait ..."). */
export function hookMs(line: string): number | undefined {
  const match = /; (\d+) ms\b/.exec(line);
  return match ? Number(match[1]) : undefined;
}

export function consoleLog(name: string): string {
  return fileText(`/var/log/xen/console/guest-${name}.log`);
}

export function boots(name: string): Boot[] {
  return parseGuestReports(consoleLog(name));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for the guest's boot number `index` (0-based, counted in its console log) to satisfy `done`; gives up early when the domain is gone. */
export async function waitForBoot(name: string, index: number, done: (boot: Boot) => boolean, timeoutMs = 120_000): Promise<Boot | undefined> {
  const until = Date.now() + timeoutMs;
  let missing = 0;
  for (let tick = 0; ; tick++) {
    const boot = boots(name)[index];
    if (boot && done(boot)) return boot;
    if (tick % 5 === 4) missing = (await domid(name)) === undefined ? missing + 1 : 0;
    if (Date.now() > until || missing >= 4) return boot; // gone for ~20 s: crashed or destroyed (a reboot is quicker)
    await sleep(1000);
  }
}

/** eth0 has its address (lease, or configuration from xenstore), DNS answer and egress, and every other listed NIC its address. */
export function reported(nics: readonly string[]): (boot: Boot) => boolean {
  return (boot) => nics.every((nic) => boot.nics[nic]?.lease || boot.nics[nic]?.static) && Boolean(boot.nics.eth0?.egress && boot.nics.eth0?.dns);
}

export async function ping(ip: string): Promise<boolean> {
  // busybox's ping: busybox comes with udhcpc (README set-up); iputils-ping need not be installed
  return (await run('busybox', ['ping', '-c', '3', '-W', '2', ip], { timeoutMs: 15_000 })).code === 0;
}
