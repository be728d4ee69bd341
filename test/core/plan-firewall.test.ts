import { describe, expect, it } from 'vitest';
import { antispoofTail, parseSave, type FirewallPolicy, type RuleState } from '../../src/core/firewall-rules';
import { blindAddVif, blindRemoveVif, planAddVif, planRegenFirewall, planRemoveFirewall, planRemoveVif, planRestoreVif } from '../../src/core/plan-firewall';
import { emptyState, restore, save } from './iptables-sim';

const policy: FirewallPolicy = { group: 4646, isolate: false, dom0Services: [] };
const web = { device: 'vif7.0', vmIp: '10.0.1.1' };
const db = { device: 'vif8.0', vmIp: '10.0.2.1' };
const rules = (state: RuleState, table: string, chain: string) => state.get(table)?.get(chain);
const online = (state: RuleState, vif = web, p = policy) => restore(state, planAddVif(state, p, vif).batch);
const TAIL = antispoofTail(policy.group);
const goto = (device: string) => `-i ${device} -g VND-SRC-${device}`;
/** ANTISPOOF as wanted: the dispatch rules of the vifs with chains (the newest first: each is inserted at the top), then the tail. */
const antispoof = (...devices: string[]) => [...devices.map(goto), ...TAIL];

describe('firewall plans', () => {
  it('the first online creates the shared chains, their jumps at the top, and the vif\'s chain with one dispatch rule', () => {
    const before = emptyState();
    (before.get('filter')!.get('FORWARD') as string[]).push('-j DOCKER-USER-LIKE');
    const plan = planAddVif(before, policy, web);
    expect(plan.needsLock).toBe(false);
    expect(plan.previous).toBeUndefined();
    expect(plan.batch).toMatch(/^\*raw\n-N VND-ANTISPOOF\n(-A VND-ANTISPOOF .*\n){3}-I PREROUTING 1 -j VND-ANTISPOOF\n-N VND-SRC-vif7.0\n/);
    const after = restore(before, plan.batch);
    expect(rules(after, 'filter', 'FORWARD')).toEqual(['-j VND-FORWARD', '-j DOCKER-USER-LIKE']);
    expect(rules(after, 'filter', 'INPUT')).toEqual(['-j VND-INPUT']);
    expect(rules(after, 'raw', 'VND-ANTISPOOF')).toEqual(antispoof('vif7.0'));
    expect(rules(after, 'raw', 'VND-SRC-vif7.0')).toEqual(['-s 10.0.1.1/32 -j RETURN', '-s 0.0.0.0/32 -p udp -m udp --sport 68 --dport 67 -j RETURN', '-j DROP']);
  });

  it('online twice: the second plans nothing', () => {
    const once = online(emptyState());
    expect(planAddVif(once, policy, web).batch).toBe('');
    expect(save(online(once))).toBe(save(once));
  });

  it('every batch planned from the same read guards itself: of parallel onlines of one vif only the first applies, the rest re-plan to nothing', () => {
    const start = online(emptyState(), db);
    const plans = [1, 2, 3].map(() => planAddVif(start, policy, web).batch);
    let state = restore(start, plans[0]!);
    for (const batch of plans.slice(1)) expect(() => restore(state, batch)).toThrow(/chain exists/);
    expect(planAddVif(state, policy, web).batch).toBe('');
    // a fresh dom0: parallel first onlines of different vifs race to create the shared chains; the loser re-plans and adds only its own
    const fresh = emptyState();
    state = restore(fresh, planAddVif(fresh, policy, web).batch);
    expect(() => restore(state, planAddVif(fresh, policy, db).batch)).toThrow(/chain exists/);
    state = online(state, db);
    expect(rules(state, 'raw', 'VND-ANTISPOOF')).toEqual(antispoof('vif8.0', 'vif7.0'));
    expect(rules(state, 'raw', 'PREROUTING')).toEqual(['-j VND-ANTISPOOF']);
  });

  it('a new address for the vif rewrites its chain in place and remembers the old rules for a rollback', () => {
    const state = online(emptyState());
    const plan = planAddVif(state, policy, { ...web, vmIp: '10.0.1.2' });
    expect(plan.batch).toBe('*raw\n-F VND-SRC-vif7.0\n-A VND-SRC-vif7.0 -s 10.0.1.2/32 -j RETURN\n-A VND-SRC-vif7.0 -s 0.0.0.0/32 -p udp -m udp --sport 68 --dport 67 -j RETURN\n-A VND-SRC-vif7.0 -j DROP\nCOMMIT\n');
    const moved = restore(state, plan.batch);
    expect(save(restore(moved, planRestoreVif(moved, web.device, plan.previous).batch))).toBe(save(state));
  });

  it('rollback of a vif that was new removes its chain and dispatch rule, nothing else', () => {
    const withDb = online(emptyState(), db);
    const plan = planAddVif(withDb, policy, web);
    const rolled = restore(restore(withDb, plan.batch), planRestoreVif(restore(withDb, plan.batch), web.device, plan.previous).batch);
    expect(save(rolled)).toBe(save(withDb));
  });

  it('a migration hand-over: the same address on two vifs; removing one vif\'s rules leaves the other\'s', () => {
    const sender = { device: 'vif5.0', vmIp: '10.0.1.1' };
    const receiver = { device: 'vif6.0', vmIp: '10.0.1.1' };
    const both = online(online(emptyState(), sender), receiver);
    expect(rules(both, 'raw', 'VND-ANTISPOOF')).toEqual(antispoof('vif6.0', 'vif5.0'));
    const after = restore(both, planRemoveVif(both, sender.device).batch);
    expect(rules(after, 'raw', 'VND-ANTISPOOF')).toEqual(antispoof('vif6.0'));
    expect(rules(after, 'raw', 'VND-SRC-vif6.0')).toEqual(rules(both, 'raw', 'VND-SRC-vif6.0'));
    expect(rules(after, 'raw', 'VND-SRC-vif5.0')).toBeUndefined();
  });

  it('offline removes the vif\'s chain and every copy of its dispatch rule; offline again plans nothing', () => {
    let state = online(online(emptyState(), db));
    (state.get('raw')!.get('VND-ANTISPOOF') as string[]).unshift(goto('vif7.0'), '-i vif7.0 -j VND-SRC-vif7.0'); // a duplicate, and an older version's jump
    state = restore(state, planRemoveVif(state, web.device).batch);
    expect(rules(state, 'raw', 'VND-ANTISPOOF')).toEqual(antispoof('vif8.0'));
    expect(planRemoveVif(state, web.device).batch).toBe('');
  });

  it('offline\'s blind first try removes the vif as online left it, and fails whole on anything else', () => {
    const state = online(online(emptyState(), db));
    expect(save(restore(state, blindRemoveVif(web.device).batch))).toBe(save(restore(state, planRemoveVif(state, web.device).batch)));
    const gone = restore(state, blindRemoveVif(web.device).batch);
    expect(() => restore(gone, blindRemoveVif(web.device).batch)).toThrow(/no such rule/);
    const doubled = restore(state, '');
    doubled.get('raw')!.get('VND-ANTISPOOF')!.push('-i vif7.0 -j VND-SRC-vif7.0');
    expect(() => restore(doubled, blindRemoveVif(web.device).batch)).toThrow(/busy/);
    const legacy = restore(state, `*raw\n-D VND-ANTISPOOF ${goto('vif7.0')}\n-I VND-ANTISPOOF 1 -i vif7.0 -j VND-SRC-vif7.0\nCOMMIT\n`);
    expect(() => restore(legacy, blindRemoveVif(web.device).batch)).toThrow(/no such rule/); // an older version's: planned from a read
  });

  it('online\'s blind first try adds a new vif exactly as planAddVif would, without a read, once the shared chains are in place', () => {
    const booted = restore(emptyState(), planRegenFirewall(emptyState(), policy, [], new Set(), new Set()).batch); // network-nat-dns start
    const withDb = online(booted, db);
    const blind = blindAddVif(policy, web);
    expect(blind.previous).toBeUndefined();
    expect(blind.needsLock).toBe(false);
    expect(save(restore(withDb, blind.batch))).toBe(save(online(withDb)));
    // batches built without a read: parallel onlines of different vifs all apply; its rollback removes only its own
    expect(save(restore(restore(booted, blindAddVif(policy, db).batch), blind.batch))).toBe(save(online(online(booted, db))));
    const added = restore(withDb, blind.batch);
    expect(save(restore(added, planRestoreVif(added, web.device, blind.previous).batch))).toBe(save(withDb));
    // a configuration with ISOLATE and DOM0_SERVICES checks its own wanted rules
    const custom: FirewallPolicy = { group: 7, isolate: true, dom0Services: [{ protocol: 'tcp', ports: '22' }] };
    const bootedCustom = restore(emptyState(), planRegenFirewall(emptyState(), custom, [], new Set(), new Set()).batch);
    expect(save(restore(bootedCustom, blindAddVif(custom, web).batch))).toBe(save(online(bootedCustom, web, custom)));
    expect(() => restore(bootedCustom, blindAddVif(policy, web).batch)).toThrow(/no such rule/);
  });

  it('online\'s blind first try fails whole on anything but a new vif on intact shared chains; the planned online then repairs', () => {
    const booted = restore(emptyState(), planRegenFirewall(emptyState(), policy, [], new Set(), new Set()).batch);
    const broken: Array<[string, (s: ReturnType<typeof emptyState>) => void, RegExp]> = [
      ['a fresh host without the shared chains', (s) => { for (const [t, chains] of emptyState()) s.set(t, chains); }, /no such rule/],
      ['the vif\'s chain already there (online run again)', (s) => { s.get('raw')!.set('VND-SRC-vif7.0', []); }, /chain exists/],
      ['raw PREROUTING flushed', (s) => { s.get('raw')!.get('PREROUTING')!.length = 0; }, /no such rule/],
      ['filter INPUT flushed', (s) => { s.get('filter')!.get('INPUT')!.length = 0; }, /no such rule/],
      ['VND-INPUT flushed', (s) => { s.get('filter')!.get('VND-INPUT')!.length = 0; }, /no such rule/],
      ['one VND-FORWARD rule deleted', (s) => { s.get('filter')!.get('VND-FORWARD')!.pop(); }, /no such rule/],
    ];
    for (const [what, breakIt, why] of broken) {
      const state = restore(booted, '');
      breakIt(state);
      expect(() => restore(state, blindAddVif(policy, web).batch), what).toThrow(why);
      const repaired = online(state);
      expect(planAddVif(repaired, policy, web).batch, what).toBe('');
    }
  });

  it('a duplicated dispatch rule or built-in jump is trimmed to one by the next online', () => {
    const state = online(emptyState());
    (state.get('raw')!.get('VND-ANTISPOOF') as string[]).unshift(goto('vif7.0'));
    (state.get('filter')!.get('FORWARD') as string[]).push('-j VND-FORWARD');
    const fixed = online(state);
    expect(rules(fixed, 'raw', 'VND-ANTISPOOF')).toEqual(antispoof('vif7.0'));
    expect(rules(fixed, 'filter', 'FORWARD')).toEqual(['-j VND-FORWARD']);
  });

  it('a vif chain left without its dispatch rule is re-created behind a guard (-X fails if a jump appeared meanwhile)', () => {
    const state = online(emptyState());
    (state.get('raw')!.get('VND-ANTISPOOF') as string[]).shift();
    const plan = planAddVif(state, policy, web);
    expect(plan.batch).toContain('-F VND-SRC-vif7.0\n-X VND-SRC-vif7.0\n-N VND-SRC-vif7.0\n');
    expect(rules(restore(state, plan.batch), 'raw', 'VND-ANTISPOOF')).toEqual(antispoof('vif7.0'));
  });

  it('a missing built-in jump next to an existing chain is the one change that needs the lock', () => {
    const state = online(emptyState());
    (state.get('filter')!.get('INPUT') as string[]).length = 0;
    const plan = planAddVif(state, policy, web);
    expect(plan.needsLock).toBe(true);
    expect(plan.batch).toBe('*filter\n-I INPUT 1 -j VND-INPUT\nCOMMIT\n');
  });

  it('a changed configuration (ISOLATE, DOM0_SERVICES) rewrites the shared chains in place', () => {
    const state = online(emptyState());
    const plan = planAddVif(state, { ...policy, isolate: true }, web);
    expect(plan.batch).toMatch(/^\*filter\n-F VND-FORWARD\n-A VND-FORWARD -m devgroup --src-group 0x1226 --dst-group 0x1226 -j DROP\n/);
    expect(plan.needsLock).toBe(false);
  });

  it('regen after a flush puts back the shared chains and every running vif, and drops chains of devices that are gone', () => {
    const running = online(online(online(emptyState(), db), { device: 'vif9.0', vmIp: '10.0.3.1' }));
    const flushed = parseSave(save(running).replace(/^-A (PREROUTING|INPUT|FORWARD|VND-ANTISPOOF) .*\n/gm, ''));
    const plan = planRegenFirewall(flushed, policy, [web, db], new Set(['vif7.0', 'vif8.0', 'eth0']), new Set());
    const after = restore(flushed, plan.batch);
    expect(rules(after, 'raw', 'VND-ANTISPOOF')).toEqual(antispoof('vif8.0', 'vif7.0'));
    expect(rules(after, 'raw', 'VND-SRC-vif9.0')).toBeUndefined();
    expect(rules(after, 'filter', 'INPUT')).toEqual(['-j VND-INPUT']);
    expect(planRegenFirewall(after, policy, [web, db], new Set(['vif7.0', 'vif8.0']), new Set()).batch).toBe('');
  });

  it('regen gives a kernel-filtered vif no chain and removes the one it had; the other vif keeps its chain', () => {
    const both = online(online(emptyState(), web), db);
    const plan = planRegenFirewall(both, policy, [web, db], new Set(['vif7.0', 'vif8.0']), new Set(['vif7.0']));
    expect(plan.changes).toEqual(['- raw VND-SRC-vif7.0']);
    const after = restore(both, plan.batch);
    expect(rules(after, 'raw', 'VND-ANTISPOOF')).toEqual(antispoof('vif8.0'));
    expect(rules(after, 'raw', 'VND-SRC-vif7.0')).toBeUndefined();
    expect(planRegenFirewall(after, policy, [web, db], new Set(['vif7.0', 'vif8.0']), new Set(['vif7.0'])).batch).toBe('');
    // the same vif no longer kernel-filtered (all.rp_filter became 2): its chain comes back
    const back = restore(after, planRegenFirewall(after, policy, [web, db], new Set(['vif7.0', 'vif8.0']), new Set()).batch);
    expect(rules(back, 'raw', 'VND-ANTISPOOF')).toEqual(antispoof('vif7.0', 'vif8.0'));
    expect(rules(back, 'raw', 'VND-SRC-vif7.0')).toEqual(rules(both, 'raw', 'VND-SRC-vif7.0'));
  });

  it('an older version\'s ANTISPOOF (a jump per vif, no tail): the next planned change converts the jumps to gotos and adds the tail, all in its one batch', () => {
    const both = online(online(emptyState(), web), db);
    const old = restore(both, '*raw\n-F VND-ANTISPOOF\n-A VND-ANTISPOOF -i vif7.0 -j VND-SRC-vif7.0\n-A VND-ANTISPOOF -i vif8.0 -j VND-SRC-vif8.0\nCOMMIT\n');
    expect(() => restore(old, blindAddVif(policy, { device: 'vif9.0', vmIp: '10.0.3.1' }).batch)).toThrow(/no such rule/); // no tail: planned
    const plan = planAddVif(old, policy, { device: 'vif9.0', vmIp: '10.0.3.1' });
    expect(plan.changes).toEqual([
      '~ raw VND-ANTISPOOF -i vif7.0 -g VND-SRC-vif7.0 (was a jump)', '~ raw VND-ANTISPOOF -i vif8.0 -g VND-SRC-vif8.0 (was a jump)',
      '~ raw VND-ANTISPOOF (3 rules)', '+ raw VND-SRC-vif9.0: vif9.0 may send from 10.0.3.1',
    ]);
    const after = restore(old, plan.batch);
    expect(rules(after, 'raw', 'VND-ANTISPOOF')).toEqual(antispoof('vif9.0', 'vif8.0', 'vif7.0'));
    expect(planAddVif(after, policy, web).batch).toBe('');
    // regen and offline convert the same way; offline of an older version's vif removes it whole
    expect(rules(restore(old, planRegenFirewall(old, policy, [web, db], new Set(), new Set()).batch), 'raw', 'VND-ANTISPOOF')).toEqual(antispoof('vif8.0', 'vif7.0'));
    const gone = restore(old, planRemoveVif(old, web.device).batch);
    expect(rules(gone, 'raw', 'VND-ANTISPOOF')).toEqual([goto('vif8.0')]);
    expect(rules(gone, 'raw', 'VND-SRC-vif7.0')).toBeUndefined();
  });

  it('the tail is put back behind the dispatch rules: deleted, edited, or with a vif\'s dispatch rule appended after it', () => {
    const both = online(online(emptyState(), web), db);
    const cases: Array<[string, string]> = [
      ['its rpfilter rule deleted', `-D VND-ANTISPOOF ${TAIL[2]}`],
      ['the whole tail deleted', TAIL.map((rule) => `-D VND-ANTISPOOF ${rule}`).join('\n')],
      ['a rule added to it', '-A VND-ANTISPOOF -j ACCEPT'],
      ['a dispatch rule after it', `-D VND-ANTISPOOF ${goto('vif7.0')}\n-A VND-ANTISPOOF ${goto('vif7.0')}`],
    ];
    for (const [what, edit] of cases) {
      const broken = restore(both, `*raw\n${edit}\nCOMMIT\n`);
      const plan = planAddVif(broken, policy, { device: 'vif9.0', vmIp: '10.0.3.1' });
      expect(plan.needsLock, what).toBe(false);
      const fixed = restore(broken, plan.batch);
      expect(rules(fixed, 'raw', 'VND-ANTISPOOF')!.slice(3), what).toEqual(TAIL);
      expect(new Set(rules(fixed, 'raw', 'VND-ANTISPOOF')!.slice(0, 3)), what).toEqual(new Set(['vif7.0', 'vif8.0', 'vif9.0'].map(goto)));
      expect(rules(fixed, 'raw', 'VND-SRC-vif7.0'), what).toEqual(rules(both, 'raw', 'VND-SRC-vif7.0'));
    }
  });

  it('remove-firewall takes away every jump and VND chain and nothing else; again plans nothing', () => {
    const base = emptyState();
    (base.get('filter')!.get('INPUT') as string[]).push('-p tcp -m tcp --dport 22 -j ACCEPT');
    const state = online(online(base, db));
    const after = restore(state, planRemoveFirewall(state).batch);
    expect(save(after)).toBe(save(base));
    expect(planRemoveFirewall(after).batch).toBe('');
  });
});
