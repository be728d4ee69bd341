// Doctor's pool checks as a pure function: the etcd members and quorum, this dom0's lease and watcher, and whether its files and routes agree with the registry.
import type { Finding } from './doctor';
import { parseEthers } from './ethers-file';
import { parseHosts } from './hosts-file';
import { bindingDrift, desiredRoutes, dropForgotten, mergePoolNames, planRoutes, poolNames } from './pool-materialise';
import type { RegistrySnapshot } from './registry';
import type { Scheme } from './scheme';

/** One member's own answer, asked directly (the edge's MemberStatus). */
export interface MemberAnswer {
  readonly endpoint: string;
  readonly version?: string;
  readonly leader?: boolean;
  readonly hasLeader?: boolean;
  readonly error?: string;
}

export interface PoolDoctorInput {
  readonly scheme: Scheme;
  readonly me: string; // POOL_ADDRESS
  readonly members: readonly MemberAnswer[];
  /** the whole registry, read through the cluster (a quorum read); undefined: it did not answer (`registryError`) */
  readonly snapshot?: RegistrySnapshot;
  readonly registryError?: string;
  readonly hosts: string;
  readonly ethers: string;
  /** this dom0's routes to other hosts' guests (address -> next hop); undefined: they could not be listed */
  readonly routes?: ReadonlyMap<string, string>;
  /** `pool watch`: running, with what the edge saw (its pid file, the process) */
  readonly watcher: { readonly running: boolean; readonly detail: string };
}

const ok = (message: string): Finding => ({ level: 'ok', message });
const warn = (message: string, fix: string): Finding => ({ level: 'warn', message, fix });
const error = (message: string, fix: string): Finding => ({ level: 'error', message, fix });

const SYNC = 'vif-nat-dns-admin pool sync (the watcher does it within a second of each change when it runs)';
const WATCHER = 'systemctl enable --now vif-nat-dns-pool (it runs vif-nat-dns-admin pool watch)';

/** At most five items, then how many more. */
function some(items: readonly string[]): string {
  return items.length <= 5 ? items.join(', ') : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`;
}

export function checkCluster(input: PoolDoctorInput): Finding[] {
  const findings: Finding[] = [];
  const answering = input.members.filter((m) => !m.error && m.hasLeader !== false);
  for (const member of input.members) {
    if (member.error) findings.push(warn(`etcd member ${member.endpoint} does not answer: ${member.error}`, 'start it or mend the network to it; the pool keeps working while a majority of the members answer'));
    else if (member.hasLeader === false) findings.push(warn(`etcd member ${member.endpoint} answers but sees no leader (cut off from the others, or quorum lost)`, 'check the members\' logs and the network between them'));
  }
  const leader = input.members.find((m) => m.leader)?.endpoint;
  if (input.snapshot) {
    findings.push(ok(`the registry answers (quorum): ${answering.length} of ${input.members.length} members reachable from here${leader ? `, leader ${leader}` : ''}; ` +
      `${input.snapshot.names.size} names, ${input.snapshot.bindings.size} live bindings, revision ${input.snapshot.revision}`));
  } else {
    findings.push(error(`the pool registry does not answer (${answering.length} of ${input.members.length} members reachable with a leader): ${input.registryError ?? 'no answer'}`,
      'a majority of the etcd members must run and be reachable from this dom0; meanwhile names new to this dom0 cannot start, known ones start degraded'));
  }
  return findings;
}

export function checkHostState(input: PoolDoctorInput): Finding[] {
  const findings: Finding[] = [input.watcher.running ? ok(input.watcher.detail)
    : error(`${input.watcher.detail}: this dom0's lease is not kept alive and its files and routes do not follow the pool`, WATCHER)];
  if (!input.snapshot) return findings;
  findings.push(input.snapshot.hosts.has(input.me) ? ok(`this dom0 (${input.me}) holds a live lease`)
    : error(`this dom0 (${input.me}) holds no live lease: its guests' bindings expired, other dom0s route to none of them`, WATCHER));
  return findings;
}

/** Names in /etc/hosts, bindings against /etc/ethers, routes against the live bindings of the other hosts. */
export function checkAgreement(input: PoolDoctorInput): Finding[] {
  const { snapshot, scheme, me } = input;
  if (!snapshot) return [];
  const findings: Finding[] = [];
  const hosts = parseHosts(input.hosts);
  const ethers = parseEthers(input.ethers);
  const merge = mergePoolNames(hosts, poolNames(snapshot));
  if (merge.added.length > 0) {
    findings.push(error(`${merge.added.length} pool name(s) missing from /etc/hosts, so this dnsmasq does not answer for them: ${some(merge.added.map((l) => l.replace('\t', ' ')))}`, SYNC));
  }
  for (const conflict of merge.conflicts) findings.push(error(conflict, 'edit that /etc/hosts line by hand to match the pool (vif-nat-dns-admin pool list)'));
  const released = dropForgotten(hosts, snapshot, ethers);
  if (released.removed.length > 0) findings.push(warn(`${released.removed.length} name(s) released in the pool still in /etc/hosts: ${some(released.removed.map((l) => l.replace('\t', ' ')))}`, SYNC));
  for (const kept of released.kept) findings.push(warn(kept, 'see the message'));

  let bindings = 0;
  for (const item of bindingDrift(scheme, snapshot, me, ethers)) {
    if (item.kind === 'here' && item.bound?.mac === item.mac && item.bound.ip === item.ip) bindings++;
    else if (item.kind === 'here') {
      findings.push(error(item.bound ? `/etc/ethers binds ${item.hostname} (${item.ip}) to ${item.mac}, the registry to ${item.bound.mac} ${item.bound.ip}`
        : `${item.hostname} (${item.ip}) runs here per /etc/ethers but has no live binding: other dom0s do not route to it`, SYNC));
    } else if (item.kind === 'stale') {
      findings.push(error(`the registry says ${item.hostname} (${item.bound.ip}) runs here, but /etc/ethers has no line for it: other dom0s route its address here`, SYNC));
    } else if (item.kind === 'elsewhere') {
      findings.push(warn(`/etc/ethers binds ${item.hostname} (${item.ip}) to ${item.mac}, but it runs on ${item.host} per the registry (a migration under way, or a stale line)`,
        'if the guest does not run here: vif-nat-dns-admin regen-ethers'));
    } else {
      findings.push(warn(`/etc/ethers binds ${item.mac} to ${item.ip}, which no pool name has`, 'vif-nat-dns-admin pool import registers this dom0\'s names'));
    }
  }

  const desired = desiredRoutes(scheme, snapshot, me);
  if (input.routes === undefined) {
    findings.push(warn('cannot list the routes to other hosts\' guests (ip route show proto 98)', 'run doctor as root in dom0'));
  } else {
    const changes = planRoutes(input.routes, desired);
    const missing = changes.replace.filter(([ip]) => !input.routes!.has(ip)).map(([ip, via]) => `${ip} via ${via}`);
    const wrong = changes.replace.filter(([ip]) => input.routes!.has(ip)).map(([ip, via]) => `${ip} via ${input.routes!.get(ip)} (should be via ${via})`);
    if (missing.length > 0) findings.push(error(`no route to ${missing.length} guest(s) of other hosts: ${some(missing)}`, SYNC));
    if (wrong.length > 0) findings.push(error(`${wrong.length} route(s) to other hosts' guests through the wrong host: ${some(wrong)}`, SYNC));
    if (changes.remove.length > 0) findings.push(error(`${changes.remove.length} stale route(s) to guests no other host runs: ${some(changes.remove)}`, SYNC));
  }
  if (findings.length === 0) {
    findings.push(ok(`this dom0 agrees with the registry: ${snapshot.names.size} pool names in /etc/hosts, ${bindings} live binding(s) in /etc/ethers, ${desired.size} route(s) to other hosts' guests`));
  }
  return findings;
}

export function checkPool(input: PoolDoctorInput): Finding[] {
  return [...checkCluster(input), ...checkHostState(input), ...checkAgreement(input)];
}
