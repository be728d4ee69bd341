// Under VND_RUNTIME (test/runtimes/matrix.sh): the sandbox's hook, regen-ethers and admin CLI are the copies `install` pinned to that Node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../harness/sandbox';

const selected = process.env.VND_RUNTIME;
let box: Sandbox;
beforeAll(async () => { if (selected) box = await Sandbox.create(); });
afterAll(async () => { await box?.destroy(); });

/** The oldest version of each runtime the package supports (engines: >=18.19). */
const EXPECTED_MAJOR: Record<string, RegExp> = { debian12: /^v18\.(19|[2-9]\d)\./, node22: /^v22\./, node24: /^v24\./, node26: /^v26\./ };

describe.skipIf(!selected)(`runtime ${selected ?? '(none: VND_RUNTIME unset)'}`, () => {
  it('the installed scripts name the runtime\'s Node, and it is the version it claims', async () => {
    const version = (await box.inDom0([box.node, '-p', 'process.version'])).stdout.trim();
    console.log(`${selected}: ${box.node} ${version}`);
    expect(version).toMatch(EXPECTED_MAJOR[selected!]!);
    for (const script of [box.hookPath, box.scriptPath('regen-ethers'), box.scriptPath('vif-nat-dns-admin')]) {
      expect((await box.inDom0(['head', '-n', '1', script])).stdout.trim()).toBe(`#!${box.node}`);
    }
  });

  it('each script runs on it: --help exits 0', async () => {
    const hook = await box.inDom0([box.hookPath, '--help']);
    expect(hook.stdout).toContain('Xen vif hotplug script');
    expect(hook.code).toBe(0);
    const admin = await box.runScript('vif-nat-dns-admin', ['--help']);
    expect(admin.stdout).toContain('Usage: vif-nat-dns-admin <command>');
    expect(admin.code).toBe(0);
    expect((await box.runScript('regen-ethers', ['--help'])).code).toBe(0);
  });
});
