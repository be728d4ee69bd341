import { describe, expect, it } from 'vitest';
import { planBatch, planRequest, type BatchState } from '../../src/core/plan-batch';
import type { BatchRequest, OnlineRequestData, OfflineRequestData } from '../../src/core/batch-request';
import { parseHosts, renderHosts } from '../../src/core/hosts-file';
import { parseEthers, renderEthers } from '../../src/core/ethers-file';
import { parseScheme } from '../../src/core/scheme';
import { seededRandom } from '../harness/random';

const scheme = parseScheme('10.0.0.0/8');
const mac = (n: number, y = 1) => `00:16:3e:00:${y.toString(16).padStart(2, '0')}:${n.toString(16).padStart(2, '0')}`;
const online = (name: string, n: number, y = 1): OnlineRequestData => ({ kind: 'online', device: `vif${n}.${y - 1}`, domainName: name, y, mac: mac(n, y) });
const offline = (name: string, n: number, y = 1): OfflineRequestData => ({ kind: 'offline', device: `vif${n}.${y - 1}`, domainName: name, y, mac: mac(n, y), dom0IpsOnDevice: [], liveAddresses: [] });
const state = (hosts: string, ethers: string): BatchState => ({ hosts: parseHosts(hosts), ethers: parseEthers(ethers) });
const text = (s: BatchState) => ({ hosts: renderHosts(s.hosts), ethers: renderEthers(s.ethers) });

function batch(initial: BatchState, requests: readonly BatchRequest[], live?: Map<string, string[]>) {
  const plan = planBatch(scheme, initial, requests, live);
  if (plan.kind !== 'plan') throw new Error('expected a plan');
  return plan;
}

/** The same requests one at a time, each against the state the previous one left: what a sequential run does. */
function sequential(initial: BatchState, requests: readonly BatchRequest[]) {
  let s = initial;
  for (const request of requests) {
    const planned = planRequest(scheme, s, request, new Map());
    if (planned.kind !== 'applied') throw new Error('expected a plan');
    s = planned.state;
  }
  return s;
}

describe('planBatch', () => {
  it.each([
    ['new guests get the lowest free numbers in queue order', '', '', [online('a', 1), online('b', 2), online('c', 3)],
      '10.0.1.1\ta\n10.0.2.1\tb\n10.0.3.1\tc\n', `${mac(1)} 10.0.1.1\n${mac(2)} 10.0.2.1\n${mac(3)} 10.0.3.1\n`],
    ['a second vif shares its guest\'s machine number though another guest came between', '', '', [online('a', 1), online('b', 2), online('a', 1, 2)],
      '10.0.1.1\ta\n10.0.2.1\tb\n10.0.1.2\ta-2\n', `${mac(1)} 10.0.1.1\n${mac(2)} 10.0.2.1\n${mac(1, 2)} 10.0.1.2\n`],
    ['offline then online of the same vif in one batch ends bound', '10.0.1.1\ta\n', `${mac(1)} 10.0.1.1\n`, [offline('a', 1), online('a', 1)],
      '10.0.1.1\ta\n', `${mac(1)} 10.0.1.1\n`],
    ['online then offline of the same vif in one batch ends unbound, name kept', '', '', [online('a', 1), offline('a', 1)],
      '10.0.1.1\ta\n', ''],
    ['foreign lines stay byte for byte', '127.0.0.1 localhost # me\n', '# hand-made\n', [online('a', 1)],
      '127.0.0.1 localhost # me\n10.0.1.1\ta\n', `# hand-made\n${mac(1)} 10.0.1.1\n`],
  ])('%s', (_, hosts, ethers, requests, hostsAfter, ethersAfter) => {
    const plan = batch(state(hosts, ethers), requests);
    expect(text(plan.state)).toEqual({ hosts: hostsAfter, ethers: ethersAfter });
    expect(plan.results).toHaveLength(requests.length);
  });

  it('a refused request changes nothing and the others go through', () => {
    const plan = batch(state('192.168.0.9\tb\n', ''), [online('a', 1), online('b', 2), online('c', 3)]);
    expect(plan.results.map((r) => r.kind)).toEqual(['online', 'error', 'online']);
    expect(plan.results[1]).toMatchObject({ error: { code: 'HOSTNAME_CONFLICT' } });
    expect(text(plan.state).ethers).toBe(`${mac(1)} 10.0.1.1\n${mac(3)} 10.0.2.1\n`);
  });

  it('a rollback undoes only its own online, also when others came after it', () => {
    const first = batch(state('', ''), [online('a', 1)]);
    const change = first.results[0]!.kind === 'online' ? first.results[0]!.change : undefined;
    const plan = batch(first.state, [online('b', 2), { kind: 'revert', ...change! }, online('c', 3)]);
    expect(text(plan.state)).toEqual({ hosts: '10.0.2.1\tb\n10.0.1.1\tc\n', ethers: `${mac(2)} 10.0.2.1\n${mac(3)} 10.0.1.1\n` });
  });

  it('a number freed in the middle of a batch (a binding with no name removed) goes to the next new guest, as one by one', () => {
    const initial = state('', '00:16:3e:00:09:09 10.0.1.1\n');
    const requests: BatchRequest[] = [online('a', 1),
      { kind: 'offline', device: 'vif9.0', y: 1, mac: '00:16:3e:00:09:09', dom0IpsOnDevice: ['10.0.1.129'], liveAddresses: [] }, online('b', 2)];
    const plan = batch(initial, requests);
    expect(text(plan.state)).toEqual(text(sequential(initial, requests)));
    expect(text(plan.state).hosts).toBe('10.0.2.1\ta\n10.0.1.1\tb\n');
  });

  it('asks for liveness once an online needs it, then refuses only that one', () => {
    const initial = state('10.0.1.1\ta\n', `${mac(9)} 10.0.1.1\n`);
    expect(planBatch(scheme, initial, [online('b', 2), online('a', 1)]).kind).toBe('needs-liveness');
    const plan = batch(initial, [online('b', 2), online('a', 1)], new Map([['10.0.1.129', ['vif9.0']]]));
    expect(plan.results.map((r) => r.kind)).toEqual(['online', 'error']);
    expect(plan.results[1]).toMatchObject({ error: { code: 'ADDRESS_IN_USE' } });
  });

  it('reports which files changed (unchanged files are not rewritten)', () => {
    const plan = batch(state('10.0.1.1\ta\n', ''), [online('a', 1)]);
    expect([plan.hostsChanged, plan.ethersChanged]).toEqual([false, true]);
    const none = batch(state('10.0.1.1\ta\n', `${mac(1)} 10.0.1.1\n`), [online('a', 1)]);
    expect([none.hostsChanged, none.ethersChanged]).toEqual([false, false]);
  });

  it('random batches: the fold equals a sequential run, and applying a batch twice equals applying it once', () => {
    const r = seededRandom();
    for (let round = 0; round < 300; round++) {
      const requests: BatchRequest[] = [];
      const applied: BatchRequest[] = [];
      let s = state(r.next() < 0.5 ? '127.0.0.1 localhost\n' : '', '');
      for (let i = r.int(1, 12); i > 0; i--) {
        const n = r.int(1, 6);
        const y = r.int(1, 2);
        const pick = r.next();
        if (pick < 0.55) requests.push(online(`g${n}`, n, y));
        else if (pick < 0.85) requests.push(offline(`g${n}`, n, y));
        else if (applied.length > 0) {
          // the rollback of an online applied in an earlier batch
          const earlier = planRequest(scheme, state('', ''), r.pick(applied), new Map());
          if (earlier.kind === 'applied' && earlier.result.kind === 'online') requests.push({ kind: 'revert', ...earlier.result.change });
        }
      }
      const once = batch(s, requests);
      expect(text(once.state), `seed ${r.seed} round ${round}`).toEqual(text(sequential(s, requests)));
      // applied twice (a holder killed before publishing): the same hosts file and the same ethers lines (an offline+online
      // pair of one vif may move its line to the end, which dnsmasq does not mind)
      const twice = text(batch(once.state, requests).state);
      expect(twice.hosts, `seed ${r.seed} round ${round}: applied twice`).toBe(text(once.state).hosts);
      expect(twice.ethers.split('\n').sort(), `seed ${r.seed} round ${round}: applied twice`).toEqual(text(once.state).ethers.split('\n').sort());
      s = once.state;
      applied.push(...requests.filter((q) => q.kind === 'online'));
    }
  });
});

describe('pool onlines in a batch', () => {
  const poolOnline = (name: string, n: number, vmIp: string, names: Array<[string, string]>): OnlineRequestData => ({ ...online(name, n), pool: { hostname: name, vmIp, names } });

  it('the pool\'s names are materialised first, so the registered address is the one planned', () => {
    const plan = batch(state('127.0.0.1 localhost\n', ''), [poolOnline('web', 1, '10.0.7.1', [['db', '10.0.2.1'], ['web', '10.0.7.1']])]);
    expect(text(plan.state).hosts).toBe('127.0.0.1 localhost\n10.0.2.1\tdb\n10.0.7.1\tweb\n');
    expect(plan.results[0]).toMatchObject({ kind: 'online', allocation: { vmIp: '10.0.7.1' }, change: { addedHostsLines: [] }, poolConflicts: [] });
  });

  it('a file that contradicts the pool refuses that online only, and changes nothing for it', () => {
    const plan = batch(state('10.0.9.1\tweb\n', ''), [poolOnline('web', 1, '10.0.7.1', [['web', '10.0.7.1']]), online('db', 2)]);
    expect(plan.results[0]).toMatchObject({ kind: 'error', error: { code: 'POOL_CONFLICT' } });
    expect(plan.results[1]).toMatchObject({ kind: 'online', allocation: { hostname: 'db' } });
    expect(text(plan.state).hosts).not.toContain('10.0.7.1');
  });

  it('a name the pool released and registered again elsewhere: its old line goes first, so it starts at its new address', () => {
    const request = { ...poolOnline('web', 1, '10.0.7.1', [['web', '10.0.7.1']]), pool: { hostname: 'web', vmIp: '10.0.7.1', names: [['web', '10.0.7.1']] as Array<[string, string]>, released: [['web', '10.0.1.1']] as Array<[string, string]> } };
    const plan = batch(state('# mine\n10.0.1.1\tweb\n', ''), [request]);
    expect(plan.results[0]).toMatchObject({ kind: 'online', allocation: { vmIp: '10.0.7.1' }, poolConflicts: [] });
    expect(text(plan.state).hosts).toBe('# mine\n10.0.7.1\tweb\n');
    // without the released pair the old line contradicts the pool
    expect(batch(state('10.0.1.1\tweb\n', ''), [poolOnline('web', 1, '10.0.7.1', [['web', '10.0.7.1']])]).results[0]).toMatchObject({ kind: 'error', error: { code: 'POOL_CONFLICT' } });
  });

  it.each([
    ['a name the files hold starts', '10.0.1.1\tweb\n', { kind: 'online' }],
    ['a new name is refused: no address without the registry', '', { kind: 'error', error: { code: 'POOL_UNAVAILABLE', message: expect.stringMatching(/web is new to this dom0 .* gets no address: etcd timed out/) } }],
  ])('degraded: %s', (_, hosts, expected) => {
    const plan = batch(state(hosts, ''), [{ ...online('web', 1), degraded: 'etcd timed out' }]);
    expect(plan.results[0]).toMatchObject(expected);
    expect(text(plan.state).hosts).toBe(hosts);
  });
});
