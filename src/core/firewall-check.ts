// Doctor's firewall checks: shared chains and their jumps, each running vif's anti-spoofing (its chain, or the kernel's reverse-path filter), its device group, stale chains.
import type { Finding } from './doctor';
import {
  ANTISPOOF, chainRules, countRule, dispatchFirst, dispatchRule, jumpRule, legacyDispatchRule, ownRules, sharedChains, vifChain, vifChainDevices, vifRules,
  type FirewallPolicy, type RuleState, type VifBinding,
} from './firewall-rules';

export interface FirewallInput {
  readonly state: RuleState;
  readonly policy: FirewallPolicy;
  readonly running: readonly VifBinding[];
  /** Every network device with its group number (`ip -N -o link`). */
  readonly groups: ReadonlyMap<string, number>;
  /** Running vifs whose sources the kernel's strict reverse-path filter checks now (core/antispoof.ts): no chain needed. */
  readonly kernelFiltered: ReadonlySet<string>;
  /** Running vifs chainless by design (rp_filter=1) whose own filter `all`=2 makes loose: the shared rpfilter rule alone checks them. */
  readonly loosened: ReadonlySet<string>;
  /** Hooks leave new vifs to the kernel (the marker's kernel-antispoof line): a chain beside it is a leftover. */
  readonly kernelAllowed: boolean;
  /** With KERNEL_ANTISPOOF=yes: sysctl configuration lines that keep new vifs from being left to the kernel. */
  readonly rpFilterOverrides: readonly string[];
}

const FIX = 'vif-nat-dns-admin regen-firewall';
const PURPOSE: Record<string, string> = {
  'VND-ANTISPOOF': 'guests whose vif has no chain of its own can send from any address the kernel lets through',
  'VND-FORWARD': 'guests depend on the host\'s FORWARD policy',
  'VND-INPUT': 'guests reach every dom0 service',
};

const sameRules = (a: readonly string[] | undefined, b: readonly string[]) => a !== undefined && a.join('\n') === b.join('\n');

export function checkFirewall(input: FirewallInput): Finding[] {
  const { state, policy } = input;
  const problems: Finding[] = [];
  const fail = (message: string) => problems.push({ level: 'error', message, fix: FIX });
  const warn = (message: string, fix = FIX) => problems.push({ level: 'warn', message, fix });

  let tailInPlace = false;
  for (const chain of sharedChains(policy)) {
    const all = chainRules(state, chain.table, chain.name);
    const rules = all && ownRules(chain, all);
    const jumps = countRule(state, chain.table, chain.builtin, jumpRule(chain.name));
    const where = `${chain.table} ${chain.name}`;
    if (rules === undefined && input.running.length === 0) warn(`firewall chain ${where} is not there yet`, 'the first online creates it; or network-nat-dns start');
    else if (rules === undefined) fail(`firewall chain ${where} is missing: ${PURPOSE[chain.name]}`);
    else if (rules.length === 0) fail(`firewall chain ${where} is empty (flushed?): ${PURPOSE[chain.name]}`);
    else if (!sameRules(rules, chain.rules)) fail(`firewall chain ${where} differs from the configuration (NETWORK, ISOLATE, DOM0_SERVICES or DEVICE_GROUP changed?)`);
    else if (chain.dispatched && !dispatchFirst(all!)) fail(`firewall chain ${where} has a vif's dispatch rule after its own rules: that vif's guest is checked by them too (its chain cannot let through what they drop)`);
    else if (chain.dispatched) tailInPlace = true;
    if (rules !== undefined && jumps === 0) fail(`no jump from ${chain.table} ${chain.builtin} to ${chain.name}: ${PURPOSE[chain.name]}`);
    if (jumps > 1) warn(`${chain.table} ${chain.builtin} jumps to ${chain.name} ${jumps} times`);
  }

  const runningDevices = new Set<string>();
  for (const vif of input.running) {
    if (runningDevices.has(vif.device)) continue;
    runningDevices.add(vif.device);
    const rules = chainRules(state, 'raw', vifChain(vif.device));
    const legacy = countRule(state, 'raw', ANTISPOOF, legacyDispatchRule(vif.device));
    const dispatches = countRule(state, 'raw', ANTISPOOF, dispatchRule(vif.device)) + legacy;
    if (legacy > 0) warn(`${vif.device}'s chain is jumped to (-j), as versions before the shared rpfilter rule did: what it lets through is checked by that rule too`);
    if (input.kernelFiltered.has(vif.device)) {
      if (input.kernelAllowed && (rules !== undefined || dispatches > 0)) warn(`${vif.device} is checked by the kernel's reverse-path filter but still has a chain ${vifChain(vif.device)} (left from before): it drops its guest's packets if it names another address`);
    } else if ((rules === undefined || dispatches === 0) && tailInPlace && input.loosened.has(vif.device)) {
      warn(`${vif.device} (${vif.vmIp}) has no chain and net.ipv4.conf.all.rp_filter=2 makes its rp_filter=1 loose: only ${ANTISPOOF}'s rpfilter rule checks its sources (nothing would after a flush of the raw table)`);
    } else if (rules === undefined || dispatches === 0) fail(`${vif.device} (${vif.vmIp}) has no anti-spoofing rules: its guest can send from any address`);
    else if (!sameRules(rules, vifRules(vif.vmIp))) fail(`${vif.device}'s anti-spoofing rules are stale: they are not the ones for ${vif.vmIp}`);
    if (dispatches > 1) warn(`${vif.device}'s anti-spoofing chain is jumped to ${dispatches} times`);
    const group = input.groups.get(vif.device);
    if (group !== policy.group) fail(`${vif.device} is in device group ${group ?? '?'}, not ${policy.group}: the guest chains do not apply to it`);
  }
  for (const device of vifChainDevices(state)) {
    if (runningDevices.has(device)) continue;
    if (input.groups.has(device)) {
      warn(`anti-spoofing rules for ${device}, which carries no guest address (an online in progress, or left behind)`,
        'nothing to do: they only restrict that device, and its next online or offline replaces or removes them');
    } else {
      warn(`stale anti-spoofing rules for ${device}, which no longer exists`);
    }
  }

  // not a problem (every vif is checked): why the hooks run iptables for each new vif
  const notes: Finding[] = input.rpFilterOverrides.length === 0 ? [] : [{ level: 'warn',
    message: `new vifs get chains of their own, not the kernel's check (KERNEL_ANTISPOOF=yes): ${input.rpFilterOverrides.join('; ')} would reset their rp_filter after their online`,
    fix: 'nothing is unprotected; to save each online its iptables run, remove or narrow that setting, then run network-nat-dns start (or set KERNEL_ANTISPOOF=no)' }];
  if (problems.length > 0) return [...problems, ...notes];
  const byKernel = [...runningDevices].filter((device) => input.kernelFiltered.has(device)).length;
  return [...notes, { level: 'ok', message: `firewall: ${runningDevices.size} vif(s) anti-spoofed${byKernel > 0 ? ` (${byKernel} by the kernel's reverse-path filter, ${runningDevices.size - byKernel} by their chains)` : ''}, dom0 closed to guests, forwarding through VND-FORWARD${policy.isolate ? ', guests isolated' : ''}` }];
}
