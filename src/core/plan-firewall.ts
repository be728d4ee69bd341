// Plans that bring the firewall from what iptables-save shows to what is wanted, as one iptables-restore --noflush batch.
//
// Concurrency: hooks apply their batches without the files' lock. A vif's chain and its one dispatch rule are created
// together in one batch that starts with `-N <chain>` (fails if the chain exists) or re-created after `-X <chain>`
// (fails while any rule still jumps to it); deletions use `-D` (fails if the rule is gone). A batch is atomic, so a
// batch planned from a stale read fails as a whole and is planned again from a fresh read: parallel onlines cannot
// duplicate a rule. The only unguarded change, inserting a missing jump into a built-in chain next to an existing
// chain (a repair after someone removed it), is flagged `needsLock` and applied under the hooks' lock.
import {
  ANTISPOOF, chainRules, countRule, dispatchFirst, dispatchRule, jumpRule, ownRules, parseDispatch, sharedChains, vifChain, vifChainDevices, vifRules,
  type FirewallPolicy, type RuleState, type Table, type VifBinding,
} from './firewall-rules';

export interface FirewallPlan {
  readonly batch: string; // input for iptables-restore --noflush; '' when nothing is to be done
  readonly needsLock: boolean;
  readonly changes: readonly string[]; // one line per change, for logs and --dry-run
}

export interface AddVifPlan extends FirewallPlan {
  /** The vif's rules before, for rolling back a failed online: undefined when its chain did not exist. */
  readonly previous?: readonly string[];
}

/** Lines per table, rendered as one restore file (raw first: anti-spoofing before the chains that trust it). */
class Batch {
  private readonly lines = new Map<Table, string[]>([['raw', []], ['filter', []]]);
  readonly changes: string[] = [];
  needsLock = false;

  add(table: Table, ...lines: string[]): void {
    this.lines.get(table)!.push(...lines);
  }

  fill(table: Table, chain: string, rules: readonly string[]): void {
    this.add(table, ...rules.map((rule) => `-A ${chain} ${rule}`));
  }

  plan(): FirewallPlan {
    const text = [...this.lines].filter(([, lines]) => lines.length > 0).map(([table, lines]) => `*${table}\n${lines.join('\n')}\nCOMMIT\n`).join('');
    return { batch: text, needsLock: this.needsLock, changes: this.changes };
  }
}

const same = (a: readonly string[] | undefined, b: readonly string[]) => a !== undefined && a.length === b.length && a.every((r, i) => r === b[i]);

/** The state with one chain's rules replaced: what the rest of a plan sees after a change earlier in its batch. */
function withRules(state: RuleState, table: Table, chain: string, rules: readonly string[]): RuleState {
  const tables = new Map(state);
  tables.set(table, new Map(state.get(table)).set(chain, rules));
  return tables;
}

/**
 * An older version's dispatch rules (`-j`: what the vif's chain let through went on to ANTISPOOF's tail) become gotos at
 * the top, one per device; the rest of the plan works from the converted state.
 */
function convertLegacyDispatch(state: RuleState, batch: Batch): RuleState {
  const current = chainRules(state, 'raw', ANTISPOOF) ?? [];
  if (!current.some((rule) => parseDispatch(rule)?.legacy)) return state;
  const next = current.filter((rule) => !parseDispatch(rule)?.legacy);
  for (const rule of current) {
    const device = parseDispatch(rule)?.legacy ? parseDispatch(rule)!.device : undefined;
    if (device === undefined) continue;
    batch.add('raw', `-D ${ANTISPOOF} ${rule}`);
    if (next.includes(dispatchRule(device))) continue;
    batch.add('raw', `-I ${ANTISPOOF} 1 ${dispatchRule(device)}`);
    next.unshift(dispatchRule(device));
    batch.changes.push(`~ raw ${ANTISPOOF} ${dispatchRule(device)} (was a jump)`);
  }
  return withRules(state, 'raw', ANTISPOOF, next);
}

/** The shared chains exist with the wanted content, each jumped to once from the top of its built-in chain. */
function ensureShared(state: RuleState, policy: FirewallPolicy, batch: Batch): void {
  for (const chain of sharedChains(policy)) {
    const current = chainRules(state, chain.table, chain.name);
    const jump = jumpRule(chain.name);
    if (current === undefined) {
      batch.add(chain.table, `-N ${chain.name}`);
      batch.fill(chain.table, chain.name, chain.rules);
      batch.add(chain.table, `-I ${chain.builtin} 1 ${jump}`);
      batch.changes.push(`+ ${chain.table} ${chain.name} (from ${chain.builtin})`);
      continue;
    }
    const jumps = countRule(state, chain.table, chain.builtin, jump);
    if (jumps === 0) {
      batch.add(chain.table, `-I ${chain.builtin} 1 ${jump}`);
      batch.needsLock = true;
      batch.changes.push(`+ ${chain.table} ${chain.builtin} ${jump}`);
    }
    for (let i = 1; i < jumps; i++) batch.add(chain.table, `-D ${chain.builtin} ${jump}`);
    if (jumps > 1) batch.changes.push(`- ${chain.table} ${chain.builtin} ${jump} (${jumps - 1} duplicate(s))`);
    const own = ownRules(chain, current);
    if (!same(own, chain.rules) || (chain.dispatched && !dispatchFirst(current))) {
      // ANTISPOOF keeps its vifs' dispatch rules: only its own rules go, and come back after them
      if (chain.dispatched) batch.add(chain.table, ...own.map((rule) => `-D ${chain.name} ${rule}`));
      else batch.add(chain.table, `-F ${chain.name}`);
      batch.fill(chain.table, chain.name, chain.rules);
      batch.changes.push(`~ ${chain.table} ${chain.name} (${chain.rules.length} rules)`);
    }
  }
}

function addVif(state: RuleState, vif: VifBinding, batch: Batch): readonly string[] | undefined {
  const chain = vifChain(vif.device);
  const wanted = vifRules(vif.vmIp);
  const current = chainRules(state, 'raw', chain);
  const dispatches = countRule(state, 'raw', ANTISPOOF, dispatchRule(vif.device));
  if (current !== undefined && dispatches === 0) batch.add('raw', `-F ${chain}`, `-X ${chain}`); // guard: fails if a jump appeared meanwhile
  if (current === undefined || dispatches === 0) {
    batch.add('raw', `-N ${chain}`);
    batch.fill('raw', chain, wanted);
    batch.add('raw', `-I ${ANTISPOOF} 1 ${dispatchRule(vif.device)}`);
    batch.changes.push(`+ raw ${chain}: ${vif.device} may send from ${vif.vmIp}`);
    return current;
  }
  for (let i = 1; i < dispatches; i++) batch.add('raw', `-D ${ANTISPOOF} ${dispatchRule(vif.device)}`);
  if (dispatches > 1) batch.changes.push(`- raw ${ANTISPOOF} ${dispatchRule(vif.device)} (${dispatches - 1} duplicate(s))`);
  if (!same(current, wanted)) {
    batch.add('raw', `-F ${chain}`);
    batch.fill('raw', chain, wanted);
    batch.changes.push(`~ raw ${chain}: ${vif.device} may send from ${vif.vmIp}`);
  }
  return current;
}

function removeVif(state: RuleState, device: string, batch: Batch): void {
  const chain = vifChain(device);
  if (chainRules(state, 'raw', chain) === undefined) return;
  const dispatches = countRule(state, 'raw', ANTISPOOF, dispatchRule(device));
  for (let i = 0; i < dispatches; i++) batch.add('raw', `-D ${ANTISPOOF} ${dispatchRule(device)}`);
  batch.add('raw', `-F ${chain}`, `-X ${chain}`);
  batch.changes.push(`- raw ${chain}`);
}

/** online: the shared chains, then this vif's chain with exactly one dispatch rule. */
export function planAddVif(read: RuleState, policy: FirewallPolicy, vif: VifBinding): AddVifPlan {
  const batch = new Batch();
  const state = convertLegacyDispatch(read, batch);
  ensureShared(state, policy, batch);
  const previous = addVif(state, vif, batch);
  return { ...batch.plan(), previous };
}

/** Put a vif's chain back as it was before a failed online (or remove it if it was new). */
export function planRestoreVif(read: RuleState, device: string, previous: readonly string[] | undefined): FirewallPlan {
  const batch = new Batch();
  const state = convertLegacyDispatch(read, batch);
  const chain = vifChain(device);
  if (previous === undefined) removeVif(state, device, batch);
  else if (chainRules(state, 'raw', chain) !== undefined && !same(chainRules(state, 'raw', chain), previous)) {
    batch.add('raw', `-F ${chain}`);
    batch.fill('raw', chain, previous);
    batch.changes.push(`~ raw ${chain} (restored)`);
  }
  return batch.plan();
}

/** offline: the vif's dispatch rules and chain go; the shared chains stay; nothing present is nothing to do. */
export function planRemoveVif(read: RuleState, device: string): FirewallPlan {
  const batch = new Batch();
  removeVif(convertLegacyDispatch(read, batch), device, batch);
  return batch.plan();
}

/**
 * offline's first try, without reading the firewall: the one dispatch rule and the chain, as online left them. Fails
 * as a whole (nothing changed) if they are not exactly so (gone, duplicated): then planRemoveVif from a read.
 */
export function blindRemoveVif(device: string): FirewallPlan {
  const chain = vifChain(device);
  return { batch: `*raw\n-D ${ANTISPOOF} ${dispatchRule(device)}\n-F ${chain}\n-X ${chain}\nCOMMIT\n`, needsLock: false, changes: [`- raw ${chain}`] };
}

/**
 * online's first try, without reading the firewall: a new vif's chain and dispatch rule, guarded by `-C` checks that the
 * shared chains are in place (every built-in jump and every wanted rule, as network-nat-dns start left them). Fails as
 * a whole (nothing changed) if the vif's chain exists or anything checked is missing: then planAddVif from a read.
 * Not checked here (planAddVif and doctor do): rules someone added to the shared chains, their order, duplicated jumps.
 */
export function blindAddVif(policy: FirewallPolicy, vif: VifBinding): AddVifPlan {
  const batch = new Batch();
  const chain = vifChain(vif.device);
  for (const shared of sharedChains(policy)) {
    batch.add(shared.table, `-C ${shared.builtin} ${jumpRule(shared.name)}`, ...shared.rules.map((rule) => `-C ${shared.name} ${rule}`));
  }
  batch.add('raw', `-N ${chain}`);
  batch.fill('raw', chain, vifRules(vif.vmIp));
  batch.add('raw', `-I ${ANTISPOOF} 1 ${dispatchRule(vif.device)}`);
  batch.changes.push(`+ raw ${chain}: ${vif.device} may send from ${vif.vmIp}`);
  return { ...batch.plan(), previous: undefined };
}

/**
 * regen-firewall (and network-nat-dns start): the shared chains, a chain for every running vif the kernel does not
 * filter (`kernelFiltered`: rp_filter=1, see core/antispoof.ts) and none for those it does, and no chain left for a
 * device that no longer exists. Run under the hooks' lock.
 */
export function planRegenFirewall(read: RuleState, policy: FirewallPolicy, running: readonly VifBinding[], existingDevices: ReadonlySet<string>,
  kernelFiltered: ReadonlySet<string>): FirewallPlan {
  const batch = new Batch();
  const state = convertLegacyDispatch(read, batch);
  ensureShared(state, policy, batch);
  const seen = new Set<string>();
  for (const vif of running) {
    if (seen.has(vif.device)) continue;
    seen.add(vif.device);
    if (kernelFiltered.has(vif.device)) removeVif(state, vif.device, batch);
    else addVif(state, vif, batch);
  }
  for (const device of vifChainDevices(state)) if (!seen.has(device) && !existingDevices.has(device)) removeVif(state, device, batch);
  return batch.plan();
}

/** network-nat-dns stop, uninstall: every jump to our chains, then the chains themselves. */
export function planRemoveFirewall(state: RuleState): FirewallPlan {
  const batch = new Batch();
  for (const chain of sharedChains({ group: 0, isolate: false, dom0Services: [] })) {
    const jump = jumpRule(chain.name);
    for (let i = countRule(state, chain.table, chain.builtin, jump); i > 0; i--) batch.add(chain.table, `-D ${chain.builtin} ${jump}`);
    if (chainRules(state, chain.table, chain.name) === undefined) continue;
    batch.add(chain.table, `-F ${chain.name}`);
    if (chain.name === ANTISPOOF) for (const device of vifChainDevices(state)) batch.add('raw', `-F ${vifChain(device)}`, `-X ${vifChain(device)}`);
    batch.add(chain.table, `-X ${chain.name}`);
    batch.changes.push(`- ${chain.table} ${chain.name}`);
  }
  for (const device of chainRules(state, 'raw', ANTISPOOF) === undefined ? vifChainDevices(state) : []) removeVif(state, device, batch);
  return batch.plan();
}
