// SIGKILL at random points: each file is always the old or the new version, temp files are swept, the lock comes back within seconds,
// and a request a killed hook left queued is applied by the next hook (changing only that vif's line).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, HOOK } from '../harness/sandbox';
import { hookInvocation, testMac, type VifSpec } from '../harness/xen-domain';
import { seededRandom } from '../harness/random';

const TRIALS = Number(process.env.VND_KILL_TRIALS ?? 200);
const STALE_MS = 2000;
let box: Sandbox;

beforeAll(async () => {
  box = await Sandbox.create();
  await box.startDnsmasq();
  box.hookEnv = { VIF_NAT_DNS_LOCK_STALE_MS: String(STALE_MS) };
});
afterAll(async () => { await box?.destroy(); });

function killAfter(vif: VifSpec, command: 'online' | 'offline', delayMs: number): Promise<number | null> {
  const { args, env } = hookInvocation(vif, command, box.xs.socketPath);
  const child = spawn('/usr/bin/nsenter', ['-t', String(box.dom0.pid), '-m', '-n', '--', HOOK, ...args], { env: { ...env, ...box.hookEnv }, stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
  return new Promise((resolve) => child.on('close', (code) => { clearTimeout(timer); resolve(code); }));
}

/** A vif whose guest is gone: its offline changes nothing, but like any hook it applies what is queued. */
const GHOST: VifSpec = { domid: 32000, devid: 0, name: 'ghost', mac: testMac(0xee, 1) };
const queuedRequests = async () => Number((await box.inDom0(['sh', '-c', 'ls -d /run/vif-nat-dns/queue/*/request 2>/dev/null | wc -l'])).stdout.trim());

function expectOnlyThisVif(trial: number, vif: VifSpec, before: { hosts: string; ethers: string }, after: { hosts: string; ethers: string }): void {
  // hosts: old, or old plus whole new lines; never partial
  const prefix = before.hosts === '' || before.hosts.endsWith('\n') ? before.hosts : `${before.hosts}\n`;
  if (after.hosts !== before.hosts) {
    expect(after.hosts.startsWith(prefix), `trial ${trial}: hosts lost a line`).toBe(true);
    expect(after.hosts.slice(prefix.length), `trial ${trial}`).toMatch(/^(10\.\d+\.\d+\.\d+\tcrash-\d+\n)+$/);
  }
  // ethers: old, or old with exactly this vif's line added/removed
  const beforeLines = before.ethers.split('\n').filter(Boolean);
  const afterLines = after.ethers.split('\n').filter(Boolean);
  expect(after.ethers === '' || after.ethers.endsWith('\n'), `trial ${trial}: ethers unterminated`).toBe(true);
  if (after.ethers !== before.ethers) {
    const added = afterLines.filter((l) => !beforeLines.includes(l));
    const removed = beforeLines.filter((l) => !afterLines.includes(l));
    expect([...added, ...removed], `trial ${trial}`).toHaveLength(1);
    expect((added[0] ?? removed[0])!.startsWith(vif.mac), `trial ${trial}`).toBe(true);
  }
}

const files = async () => ({ hosts: await box.dom0File('/etc/hosts'), ethers: await box.dom0File('/etc/ethers') });
const tempFiles = async () => (await box.inDom0(['sh', '-c', 'ls -a /etc | grep -E "^(hosts|ethers)\\.[0-9]+$" || true'])).stdout.trim();

describe(`SIGKILL at random points (${TRIALS} trials)`, () => {
  const r = seededRandom();
  it(`files stay whole and the lock recovers (replay with VND_SEED=${r.seed})`, async () => {
    const online: VifSpec[] = [];
    let completed = 0;
    let killedHoldingLock = 0;
    let worstRecoveryMs = 0;
    let recoveries = 0;
    let verifier = 0;
    let tempLeftByKills = 0;
    let leftQueued = 0;

    const recover = async () => {
      if ((await tempFiles()) !== '') tempLeftByKills++;
      const vif = (await box.addGuest(9000 + verifier, `verify-${verifier++}`, [testMac(0x99, verifier)], { headless: true })).vifs[0]!;
      const result = await box.runHook(vif, 'online');
      expect(result.code, result.stderr).toBe(0);
      expect(result.ms).toBeLessThan(STALE_MS + 3000);
      worstRecoveryMs = Math.max(worstRecoveryMs, result.ms);
      recoveries++;
      expect(await tempFiles()).toBe('');
      online.push(vif);
    };

    for (let trial = 0; trial < TRIALS; trial++) {
      const goOnline = online.length === 0 || r.next() < 0.75;
      const vif = goOnline
        ? (await box.addGuest(2000 + trial, `crash-${trial}`, [testMac(0xaa, trial)], { headless: true })).vifs[0]!
        : online.splice(r.int(0, online.length - 1), 1)[0]!;
      const before = await files();
      const code = await killAfter(vif, goOnline ? 'online' : 'offline', r.int(15, 90));
      expectOnlyThisVif(trial, vif, before, await files());
      const heldLock = (await box.inDom0(['test', '-d', '/run/vif-nat-dns.lock'])).code === 0;
      // a request its killed hook left queued is applied by the next hook to come (here: a no-op offline), after the lock's
      // stale time if the killed hook held it: still only this vif's change
      if (heldLock || (await queuedRequests()) > 0) {
        if (await queuedRequests() > 0) leftQueued++;
        const next = await box.runHook(GHOST, 'offline');
        expect(next.code).toBe(0);
        expect(await queuedRequests()).toBe(0);
        if (heldLock) {
          expect(next.ms).toBeLessThan(STALE_MS + 3000);
          worstRecoveryMs = Math.max(worstRecoveryMs, next.ms);
        }
        expectOnlyThisVif(trial, vif, before, await files());
      }
      if (code === 0) completed++;
      if (goOnline && code === 0) online.push(vif);
      if (heldLock) {
        killedHoldingLock++;
        await recover();
      } else if (trial % 25 === 24) {
        await recover();
      }
    }
    await recover();
    console.log(`kill trials: ${TRIALS} (seed ${r.seed}), completed before the kill ${completed}, killed holding the lock ${killedHoldingLock}, ` +
      `recoveries ${recoveries}, slowest recovery ${Math.round(worstRecoveryMs)} ms (stale ${STALE_MS} ms), partial files 0, ` +
      `kills that left temp files ${tempLeftByKills} (all swept by the next hook), kills that left a request queued ${leftQueued} (applied by the next hook)`);
  }, 900_000);
});
