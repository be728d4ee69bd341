// Doctor's checks as pure functions of what the edges gathered: each finding says what is wrong and how to fix it.
import { bootStepCovers } from './antispoof';
import { parseEthers } from './ethers-file';
import { parseHosts } from './hosts-file';
import { parseIPv4 } from './ipv4';
import { contains, decode, netmaskText, type Scheme } from './scheme';
import { checkFirewall, type FirewallInput } from './firewall-check';
import { checkPool, type PoolDoctorInput } from './pool-doctor';

export interface Finding {
  readonly level: 'ok' | 'warn' | 'error';
  readonly message: string;
  readonly fix?: string;
}

export interface DoctorInput {
  readonly scheme: Scheme;
  readonly hosts: string;
  readonly ethers: string;
  readonly dnsmasq: { readonly running: boolean; readonly detail: string };
  readonly dnsmasqConfig?: { readonly sources: readonly string[]; readonly lines: readonly string[] };
  /** DNS_DOMAIN: the domain published to guests, which dnsmasq's domain= should serve. */
  readonly dnsDomain?: string;
  readonly ipForward: string;
  readonly masquerade?: { readonly rules: string; readonly uplink?: string };
  /** NETWORK_STARTED_MARKER's text: what `network-nat-dns start` did at boot (undefined: it has not run). */
  readonly bootMarker?: string;
  /** The lock when held: its age, its recorded holder, and whether that holder is gone (src/core/lock-owner.ts's verdict). */
  readonly lock: { readonly held?: { readonly ageMs: number; readonly holderPid?: number; readonly verdict: 'held' | 'abandoned' }; readonly journal: boolean };
  /** undefined: iptables-save could not be read. */
  readonly firewall?: FirewallInput;
  /** a pool dom0's facts (ETCD_ENDPOINTS set); undefined in single-host mode */
  readonly pool?: PoolDoctorInput;
}

const ok = (message: string): Finding => ({ level: 'ok', message });
const warn = (message: string, fix: string): Finding => ({ level: 'warn', message, fix });
const error = (message: string, fix: string): Finding => ({ level: 'error', message, fix });

function options(lines: readonly string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = (eq === -1 ? line : line.slice(0, eq)).trim();
    map.set(key, [...(map.get(key) ?? []), eq === -1 ? '' : line.slice(eq + 1).trim()]);
  }
  return map;
}

function prefixOf(mask: string): number | undefined {
  const value = parseIPv4(mask);
  if (value === undefined) return undefined;
  const bits = value.toString(2).padStart(32, '0');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
}

/** A dhcp-range covers the scheme when its start lies in it and its netmask spans the whole managed network. */
export function rangeCovers(scheme: Scheme, range: string): boolean {
  const fields = range.split(',').map((f) => f.trim()).filter((f) => !/^(tag|set):/.test(f));
  const start = parseIPv4(fields[0] ?? '');
  if (start === undefined || !contains(scheme, start)) return false;
  const masks = fields.slice(1).map(prefixOf).filter((p): p is number => p !== undefined && p < 32);
  return masks.some((prefix) => prefix <= scheme.prefixLength);
}

export function checkDnsmasq(input: DoctorInput): Finding[] {
  const findings: Finding[] = [input.dnsmasq.running ? ok(input.dnsmasq.detail)
    : error(input.dnsmasq.detail, 'start dnsmasq (systemctl start dnsmasq) with templates/dnsmasq.conf in /etc/dnsmasq.d')];
  if (!input.dnsmasqConfig) return findings;
  const opts = options(input.dnsmasqConfig.lines);
  const from = `in ${input.dnsmasqConfig.sources.join(', ') || '(no files)'}`;
  findings.push(opts.has('read-ethers') ? ok('dnsmasq reads /etc/ethers (read-ethers)')
    : error(`dnsmasq does not read /etc/ethers: no read-ethers ${from}`, 'add read-ethers (see templates/dnsmasq.conf)'));
  if (opts.has('no-hosts')) findings.push(error(`dnsmasq ignores /etc/hosts: no-hosts ${from}`, 'remove no-hosts, or guests get no DNS names'));
  const ranges = opts.get('dhcp-range') ?? [];
  findings.push(ranges.some((r) => rangeCovers(input.scheme, r)) ? ok(`a dhcp-range covers ${input.scheme.text}`)
    : error(`no dhcp-range covers ${input.scheme.text} ${from}`, `add dhcp-range=${input.scheme.text.split('/')[0]},static,${netmaskText(input.scheme)},infinite`));
  const domains = (opts.get('domain') ?? []).map((d) => d.split(',')[0]!.trim());
  if (input.dnsDomain !== undefined) {
    findings.push(domains.includes(input.dnsDomain) ? ok(`dnsmasq serves the guests' domain ${input.dnsDomain}`)
      : warn(`guests are told their domain is ${input.dnsDomain} (DNS_DOMAIN) but dnsmasq serves ${domains.length ? domains.join(', ') : 'no domain='} ${from}`,
        `set domain=${input.dnsDomain} and local=/${input.dnsDomain}/ in the dnsmasq drop-in, or DNS_DOMAIN to dnsmasq's domain`));
  }
  if (!opts.has('bind-dynamic') && !opts.has('bind-interfaces')) {
    findings.push(warn('dnsmasq binds the wildcard address', 'add bind-dynamic so it picks up vifs as they appear and never serves the uplink'));
  }
  return findings;
}

export function checkFiles(input: DoctorInput): Finding[] {
  const findings: Finding[] = [];
  const hosts = parseHosts(input.hosts);
  const ethers = parseEthers(input.ethers);
  const dup = <T>(items: T[]) => [...new Set(items.filter((x, i) => items.indexOf(x) !== i))];
  const managedHosts = hosts.entries.filter((e) => e.ipv4 !== undefined && decode(input.scheme, e.ipv4)?.side === 'vm');
  const managedEthers = ethers.entries.filter((e) => e.ipv4 !== undefined && decode(input.scheme, e.ipv4)?.side === 'vm');
  for (const mac of dup(ethers.entries.map((e) => e.mac))) findings.push(error(`MAC ${mac} appears more than once in /etc/ethers`, 'keep one line per MAC (regen-ethers rebuilds the managed ones)'));
  for (const ip of dup(managedEthers.map((e) => e.target))) findings.push(error(`address ${ip} is bound to several MACs in /etc/ethers; dnsmasq ignores all but the first`, 'run regen-ethers'));
  for (const name of dup(managedHosts.flatMap((e) => e.names))) findings.push(error(`hostname ${name} has several managed addresses in /etc/hosts`, 'keep one line per name; forget the extra with an editor, then run regen-ethers'));
  for (const ip of dup(managedHosts.map((e) => e.address))) findings.push(warn(`address ${ip} has several lines in /etc/hosts`, 'merge them into one line'));
  for (const entry of hosts.entries) {
    if (entry.ipv4 !== undefined && contains(input.scheme, entry.ipv4) && decode(input.scheme, entry.ipv4)?.side !== 'vm') {
      findings.push(warn(`/etc/hosts line ${entry.index + 1} (${entry.address} ${entry.names.join(' ')}) is inside ${input.scheme.text} but not a guest address of the scheme`,
        'guests get 10.<machine>.<1..127>; move this entry out of the managed network'));
    }
  }
  const hostAddresses = new Set(managedHosts.map((e) => e.ipv4));
  for (const entry of managedEthers) {
    if (!hostAddresses.has(entry.ipv4)) findings.push(warn(`/etc/ethers binds ${entry.mac} to ${entry.target}, which has no name in /etc/hosts`, 'run regen-ethers, or add the name to /etc/hosts'));
  }
  if (findings.length === 0) findings.push(ok(`/etc/hosts and /etc/ethers: ${managedHosts.length} managed names, ${managedEthers.length} bindings, no duplicates`));
  return findings;
}

export function checkHost(input: DoctorInput): Finding[] {
  const findings: Finding[] = [input.ipForward.trim() === '1' ? ok('IPv4 forwarding is on')
    : error('IPv4 forwarding is off', 'sysctl -w net.ipv4.ip_forward=1 (hooks/network-nat-dns start does it at boot)')];
  if (input.masquerade) {
    const net = input.scheme.text;
    const has = input.masquerade.rules.split('\n').some((rule) => rule.includes(`-s ${net}`) && rule.includes('-j MASQUERADE'));
    const booted = input.masquerade.uplink !== undefined && bootStepCovers(input.bootMarker, net, input.masquerade.uplink);
    if (booted && !has) {
      findings.push(error(`network-nat-dns start put the MASQUERADE rule for ${net} -> ${input.masquerade.uplink} in place, but it is gone: hooks trust the boot step and do not add it back`,
        'run network-nat-dns start again (or systemctl restart vif-nat-dns-network); find what flushed the nat table'));
    } else {
      findings.push(has ? ok(`a MASQUERADE rule covers ${net}`)
        : warn(`no MASQUERADE rule for ${net} yet`, `the first online adds it; or hooks/network-nat-dns start (iptables -t nat -A POSTROUTING -s ${net} -o ${input.masquerade.uplink ?? '<uplink>'} -j MASQUERADE)`));
    }
    if (!booted) {
      findings.push(warn('network-nat-dns start has not run since boot (or for another network or uplink): every online checks the MASQUERADE rule itself, one iptables run per guest',
        'systemctl enable --now vif-nat-dns-network (xend runs network-nat-dns start itself)'));
    }
  }
  const { held } = input.lock;
  const holder = held?.holderPid === undefined ? 'a hook that has not recorded itself' : `pid ${held.holderPid}`;
  if (held?.verdict === 'abandoned') {
    findings.push(warn(`the lock is ${Math.round(held.ageMs / 1000)} s old and its holder (${holder}) is gone: a hook was killed holding it`, 'the next hook takes it over by itself; nothing to do unless this repeats'));
  } else {
    findings.push(ok(held === undefined ? 'the lock is free' : `the lock is held by a running hook (${holder}, ${Math.round(held.ageMs / 1000)} s)`));
  }
  if (input.lock.journal) findings.push(warn('an interrupted write left temp files listed beside the lock', 'the next hook removes them; nothing to do'));
  return findings;
}

export function doctor(input: DoctorInput): Finding[] {
  const firewall = input.firewall ? checkFirewall(input.firewall)
    : [error('cannot read the firewall (iptables-save failed)', 'install iptables; run doctor as root in dom0')];
  return [...checkDnsmasq(input), ...checkFiles(input), ...checkHost(input), ...firewall, ...(input.pool ? checkPool(input.pool) : [])];
}
