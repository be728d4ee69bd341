#!/usr/bin/env node
// npm run demo:xen: Debian's Xen in QEMU, the real xl starting a few guests on this hook, and a table of what each guest
// itself saw (lease, DNS answer, NAT egress); then a clean power-off. Same runner as the lab test (lab.ts).
import { missingLabRequirements, runLab, type LabRun } from './lab';
import type { ScenarioData } from './dom0/scenarios';
import { demoTable } from './demo-table';

const say = (text: string) => process.stdout.write(`${text}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function explainFailure(run: LabRun): void {
  say('\nThe lab did not finish; the last of the console:');
  say(run.serial.split('\n').slice(-40).join('\n'));
}

async function main(): Promise<number> {
  const problems = missingLabRequirements();
  if (problems.length > 0) {
    process.stderr.write(`demo:xen cannot run here:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  say('Real Xen inside QEMU (software emulation, no network device): Debian\'s Xen 4.17, a PV dom0 whose root is this');
  say('machine\'s / (read-only, changes kept in memory), set up as the README tells an xl administrator (apt-get install');
  say('./vif-nat-dns_*.deb, built from this checkout). Takes minutes.\n');
  say('Images: building or reusing the cached boot images (test/xenlab/build-images.sh) ...');
  const run = await runLab({
    scenarios: ['demo'],
    onProgress: (event) => say(`  [${seconds(event.atMs).padStart(7)}] ${event.text}`),
  });
  const demo = run.results?.scenarios.find((s) => s.name === 'demo');
  if (!demo || demo.error) {
    if (demo?.error) say(`\nThe demo scenario failed: ${demo.error}`);
    explainFailure(run);
    return 1;
  }
  const data = demo.data as ScenarioData<'demo'>;
  say(`\nxl create web (2 NICs), db and Build_Runner-7, in parallel, with vif.default.script="vif-nat-dns" in /etc/xen/xl.conf.`);
  say('Every value below comes from the guests\' own consoles (their udhcpc, nslookup through the router, and a TCP');
  say('connection to a "lan" host behind dom0\'s uplink, which answers with the address it saw), or from xenstore:\n');
  say(demoTable(data));
  say(`\n/etc/hosts in dom0 gained:\n${data.hosts.split('\n').filter((l) => l.startsWith('10.')).map((l) => `  ${l}`).join('\n')}`);
  say(`xl destroy of each: ${data.destroyed.map((d) => d.hookLines.join(' ').replace(/^vif-nat-dns\[\d+\]: /, '')).filter(Boolean).length} offline events; /etc/ethers afterwards: ${data.ethers.trim() === '' ? 'empty (the names keep their addresses in /etc/hosts)' : data.ethers.trim()}`);
  say(`\nPowered off (QEMU exit ${run.exitCode}); the temp directory is removed and this machine was not changed.`);
  return data.created.every((g) => g.exit === 0 && g.nics.every((n) => n.lease)) ? 0 : 1;
}

if (require.main === module) {
  main().then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`demo:xen failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
