// Pool mode beyond the hook's happy path: a failed online's rollback, and the admin commands that must consult the registry.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, type Sandbox } from '../harness/sandbox';
import { DOM0_ADDRESSES, TestPool } from '../harness/pool';
import { testMac } from '../harness/xen-domain';

// budget: about 15 s on 2 cores (one etcd member, two dom0s with dnsmasq)
let pool: TestPool;
let A: Sandbox, B: Sandbox;
const [ADDR_A] = DOM0_ADDRESSES as [string, string];

beforeAll(async () => {
  pool = await TestPool.create({ dom0s: 2, members: 1, leaseTtlS: 30 });
  [A, B] = pool.dom0s as [Sandbox, Sandbox];
}, 60_000);
afterAll(async () => { await pool?.destroy(); });

type Row = { hostname: string; address: string; host?: string; mac?: string };
async function poolList(box: Sandbox): Promise<Row[]> {
  const result = await box.runScript('vif-nat-dns-admin', ['pool', 'list', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Row[];
}

describe('pool mode: rollback and admin commands', () => {
  it('a failed online removes the live binding it registered (the name keeps its number)', async () => {
    const guest = await A.addGuest(10, 'broken', [testMac(1, 10)], { headless: true });
    // ip's route commands fail: after the registry reserved and bound the name, so the rollback must unbind it
    const failed = await A.runHook(guest.vifs[0]!, 'online', { PATH: `${join(REPO, 'test', 'harness', 'faults')}:/usr/sbin:/usr/bin:/sbin:/bin` });
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/injected fault/);
    const row = (await poolList(B)).find((r) => r.hostname === 'broken');
    expect(row).toMatchObject({ address: '10.0.1.1' });
    expect(row?.host).toBeUndefined();
    expect(await A.dom0File('/etc/ethers')).not.toContain(testMac(1, 10));
    // and it comes up, at the same address, once ip works
    const again = await A.runHook(guest.vifs[0]!, 'online');
    expect(again.code, again.stderr).toBe(0);
    expect((await poolList(B)).find((r) => r.hostname === 'broken')).toMatchObject({ address: '10.0.1.1', host: ADDR_A, mac: testMac(1, 10) });
  });
});
