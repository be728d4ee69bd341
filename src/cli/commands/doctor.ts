// doctor: gathers dnsmasq's state and configuration, the files, forwarding, NAT and the lock, then explains each finding.
import { parseArgs } from 'node:util';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { doctor as check, type DoctorInput, type Finding } from '../../core/doctor';
import type { Command, CliContext } from '../context';
import { createFirewall } from '../../edges/firewall';
import { firewallFacts } from './firewall-commands';
import { inspectLock } from '../../edges/lock';
import { POOL_WATCHER_PID_FILE } from '../../core/config';
import { describeError } from '../../core/errors';
import type { PoolDoctorInput } from '../../core/pool-doctor';
import { createPoolRoutes } from '../../edges/pool-routes';
import { createEtcdRegistry } from '../../pool/etcd-registry';

/** conf-file and conf-dir from dnsmasq's command line (/proc/<pid>/cmdline), else Debian's defaults. */
export function configSources(cmdline: readonly string[]): { files: string[]; dirs: Array<{ dir: string; filters: string[] }> } {
  const files: string[] = [];
  const dirs: Array<{ dir: string; filters: string[] }> = [];
  let explicitFile = false;
  for (let i = 0; i < cmdline.length; i++) {
    const arg = cmdline[i]!;
    const value = (long: string, short: string) => arg.startsWith(`${long}=`) ? arg.slice(long.length + 1) : arg === short || arg === long ? cmdline[++i] : arg.startsWith(short) && short.length === 2 && arg.length > 2 ? arg.slice(2) : undefined;
    const file = value('--conf-file', '-C');
    if (file !== undefined) { explicitFile = true; if (file !== '/dev/null') files.push(file); continue; }
    const dir = value('--conf-dir', '-7');
    if (dir !== undefined) { const [d, ...filters] = dir.split(','); dirs.push({ dir: d!, filters }); }
  }
  if (!explicitFile) files.push('/etc/dnsmasq.conf');
  return { files, dirs };
}

async function readConfig(cmdline: readonly string[]): Promise<{ sources: string[]; lines: string[] }> {
  const { files, dirs } = configSources(cmdline);
  for (const { dir, filters } of dirs) {
    const names = (await readdir(dir).catch(() => [] as string[])).sort();
    const include = filters.filter((f) => f.startsWith('*')).map((f) => f.slice(1));
    const exclude = filters.filter((f) => !f.startsWith('*'));
    for (const name of names) {
      if (include.length ? !include.some((ext) => name.endsWith(ext)) : exclude.some((ext) => name.endsWith(ext)) || name.endsWith('~') || name.startsWith('.')) continue;
      files.push(join(dir, name));
    }
  }
  const sources: string[] = [];
  const lines: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    sources.push(file);
    lines.push(...text.split('\n'));
  }
  return { sources, lines };
}

async function gather(ctx: CliContext): Promise<DoctorInput> {
  const { config } = ctx;
  const [files, located, ipForward, lockSeen, journal] = await Promise.all([
    ctx.files.read(),
    ctx.dnsmasq.locate(),
    readFile('/proc/sys/net/ipv4/ip_forward', 'utf8').catch(() => '?'),
    Promise.resolve(inspectLock(config.lockPath, config.lockStaleMs)),
    stat(`${config.lockPath}.tmpfiles`).then(() => true, () => false),
  ]);
  const running = !('warning' in located);
  const cmdline = running ? (await readFile(`/proc/${located.pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).slice(1) : [];
  const uplink = config.netdev || (await ctx.net.defaultRouteDevice());
  const rules = await ctx.exec('iptables', ['-w', '5', '-t', 'nat', '-S', 'POSTROUTING']).catch(() => undefined);
  const [ruleState, facts] = await Promise.all([createFirewall(ctx.exec, config.firewall).read().catch(() => undefined), firewallFacts(ctx, 'doctor')]);
  return {
    scheme: config.scheme,
    dnsDomain: config.dnsDomain,
    hosts: files.hosts,
    ethers: files.ethers,
    dnsmasq: running ? { running, detail: `dnsmasq is running (pid ${located.pid}, from ${located.pidFile})` } : { running, detail: `dnsmasq is not running: ${located.warning}` },
    dnsmasqConfig: await readConfig(cmdline),
    ipForward,
    masquerade: rules && rules.exitCode === 0 ? { rules: rules.stdout, uplink } : undefined,
    bootMarker: await ctx.net.bootMarker(),
    lock: { held: lockSeen && { ageMs: lockSeen.ageMs, holderPid: lockSeen.holderPid, verdict: lockSeen.verdict }, journal },
    // for doctor, the vifs firewallFacts would give chains are those whose rp_filter=1 `all`=2 loosens
    firewall: ruleState && { state: ruleState, policy: config.firewall, ...facts, loosened: new Set(facts.toChain), rpFilterOverrides: config.kernelAntispoof ? facts.rpFilterOverrides : [] },
    pool: config.pool && (await poolFacts(ctx, files)),
  };
}

/** Whether `pool watch` runs: its pid file names a live process whose command line is a pool watcher. */
async function watcherState(): Promise<{ running: boolean; detail: string }> {
  const pid = Number((await readFile(POOL_WATCHER_PID_FILE, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return { running: false, detail: `the pool watcher is not running (no ${POOL_WATCHER_PID_FILE})` };
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  const running = cmdline.includes('pool') && cmdline.includes('watch');
  return { running, detail: running ? `the pool watcher is running (pid ${pid})` : `the pool watcher is not running (${POOL_WATCHER_PID_FILE} names pid ${pid}, which is not a watcher)` };
}

/** A pool dom0's facts: each member's own answer, the registry (a quorum read), our routes to other hosts' guests, the watcher. */
async function poolFacts(ctx: CliContext, files: { hosts: string; ethers: string }): Promise<PoolDoctorInput> {
  const registry = createEtcdRegistry(ctx.config.pool!);
  const [members, read, routes, watcher] = await Promise.all([
    registry.client.members(),
    registry.snapshot().then((snapshot) => ({ snapshot }), (err: unknown) => ({ error: describeError(err) })),
    createPoolRoutes(ctx.exec).list().catch(() => undefined),
    watcherState(),
  ]);
  // the files again after the registry: a name registered just before this read is in them by now (its online's batch)
  const after = await ctx.files.read().catch(() => files);
  return {
    scheme: ctx.config.scheme, me: registry.pool.address, members, snapshot: 'snapshot' in read ? read.snapshot : undefined,
    registryError: 'error' in read ? read.error : undefined, hosts: after.hosts, ethers: after.ethers, routes, watcher,
  };
}

export function renderFindings(findings: readonly Finding[]): string {
  const mark = { ok: ' ok ', warn: 'WARN', error: 'FAIL' } as const;
  return findings.map((f) => `[${mark[f.level]}] ${f.message}${f.fix ? `\n       fix: ${f.fix}` : ''}`).join('\n');
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check dnsmasq, the files, forwarding, NAT, the lock and the firewall, and explain how to fix what is wrong',
  usage: `doctor [--json]

Checks: dnsmasq running and reading what we write (read-ethers, no no-hosts, a dhcp-range covering NETWORK,
bind-dynamic, domain= equal to the DNS_DOMAIN published to guests), IPv4 forwarding, the MASQUERADE rule, duplicate MACs/addresses/names, /etc/hosts entries inside
the managed network that are not guest addresses, ethers bindings with no name, the lock's health, and the firewall:
the shared chains (content and one jump each from PREROUTING, FORWARD, INPUT), every running vif's anti-spoofing
chain (present, jumped to once, for its address) and device group, and chains left for devices that are gone.
In a pool (ETCD_ENDPOINTS set): each etcd member's answer and the registry's (a quorum read), this dom0's lease and
its watcher (pool watch), and whether /etc/hosts holds every pool name at its address (and none released), /etc/ethers
agrees with this dom0's live bindings, and the routes to other dom0s' guests are the registry's.
Exit: 0 all fine (warnings allowed), 1 at least one FAIL, 2 usage.`,
  async run(args, context) {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
    const ctx = context();
    const findings = check(await gather(ctx));
    ctx.out(values.json ? JSON.stringify(findings, null, 2) : renderFindings(findings));
    return findings.some((f) => f.level === 'error') ? 1 : 0;
  },
};
