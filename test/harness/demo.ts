#!/usr/bin/env node
// The sandbox demo: a namespaced dom0 with a few guests, the real hook for each, and a table of what every guest got.
import { Sandbox, DOMAIN, REPO, type Guest } from './sandbox';
import { missingRequirements } from './requirements';

interface Row { guest: string; vif: string; mac: string; hostname: string; address: string; dhcp: string; dns: string; nat: string; hook: string }

function table(rows: Row[]): string {
  const heads: Row = { guest: 'guest (domain name)', vif: 'vif', mac: 'MAC', hostname: 'hostname', address: 'address', dhcp: 'DHCP lease', dns: `DNS <host>.${DOMAIN}`, nat: 'NAT egress seen as', hook: 'hook' };
  const keys = Object.keys(heads) as (keyof Row)[];
  const width = (k: keyof Row) => Math.max(heads[k].length, ...rows.map((r) => r[k].length));
  const line = (r: Row) => keys.map((k) => r[k].padEnd(width(k))).join('  ');
  return [line(heads), keys.map((k) => '-'.repeat(width(k))).join('  '), ...rows.map(line)].join('\n');
}

async function bringUp(box: Sandbox, guest: Guest, label = guest.name): Promise<Row[]> {
  const results = await Promise.all(guest.vifs.map((vif) => box.runHook(vif, 'online')));
  const rows: Row[] = [];
  for (const [i, vif] of guest.vifs.entries()) {
    const result = results[i]!;
    const match = /online (\S+): (\S+) (\S+) /.exec(result.stderr);
    if (result.code !== 0 || !match) {
      rows.push({ guest: label, vif: `vif${vif.domid}.${vif.devid}`, mac: vif.mac, hostname: '-', address: 'REFUSED', dhcp: '-', dns: '-', nat: '-', hook: `exit ${result.code}: ${result.stderr.trim().slice(0, 60)}` });
      continue;
    }
    const [, device, hostname, address] = match;
    const lease = await box.dhcp(guest, vif.devid);
    const dns = await box.dig(guest, lease?.router ?? '', `${hostname}.${DOMAIN}`);
    const nat = vif.devid === 0 ? await box.egress(guest) : '(eth0 only)';
    rows.push({
      guest: label, vif: device!, mac: vif.mac, hostname: hostname!, address: address!,
      dhcp: lease ? `${lease.ip} via ${lease.router}` : 'no lease', dns: dns || 'no answer', nat: nat || 'unreachable', hook: `${Math.round(result.ms)} ms`,
    });
  }
  return rows;
}

async function main(): Promise<number> {
  const problems = missingRequirements(REPO);
  if (problems.length > 0) {
    process.stderr.write(`The sandbox demo cannot run here:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  const say = (text: string) => process.stdout.write(`${text}\n`);
  say('Building a sandbox dom0 (network + mount namespaces, private /etc and /run), a lan, and dnsmasq from templates/dnsmasq.conf ...');
  const box = await Sandbox.create();
  const stop = () => { void box.destroy().finally(() => process.exit(130)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await box.startDnsmasq();
    const web = await box.addGuest(1, 'web', ['00:16:3e:5a:01:01', '00:16:3e:5a:01:02']);
    const db = await box.addGuest(2, 'db', ['00:16:3e:5a:02:01']);
    const odd = await box.addGuest(3, 'Build Runner #7', ['00:16:3e:5a:03:01']);
    say('Running the hook as libxl does (vif-nat-dns online type_if=vif, XENBUS_PATH=backend/vif/<domid>/<devid>) for each vif, in parallel ...\n');
    const rows = (await Promise.all([web, db, odd].map((g) => bringUp(box, g)))).flat();
    say(table(rows));
    say(`\n/etc/hosts gained:\n${(await box.dom0File('/etc/hosts')).split('\n').filter((l) => l.startsWith('10.')).map((l) => `  ${l}`).join('\n')}`);
    say(`/etc/ethers:\n${(await box.dom0File('/etc/ethers')).trimEnd().split('\n').map((l) => `  ${l}`).join('\n')}`);

    say('\nxl shutdown db  ->  vif-nat-dns offline: the ethers line goes, the hosts line stays');
    const off = await box.runHook(db.vifs[0]!, 'offline');
    say(`  ${off.stderr.trim()}`);
    await box.destroyGuest(db);
    say(`  /etc/ethers now: ${(await box.dom0File('/etc/ethers')).trimEnd().split('\n').join(' | ')}`);

    const dbAddress = rows.find((r) => r.guest === 'db')?.address ?? '?';
    say(`\nxl create db again: new domid 4 and a new random MAC (dnsmasq still leases ${dbAddress} to the old one)`);
    const again = await box.addGuest(4, 'db', ['00:16:3e:5a:04:99']);
    say(table(await bringUp(box, again)));

    say('\nA second domain whose name sanitises to the same hostname while db runs is refused, not given db\'s address:');
    const clash = await box.addGuest(5, 'DB', ['00:16:3e:5a:05:01']);
    const refused = await box.runHook(clash.vifs[0]!, 'online');
    say(`  exit ${refused.code}; xenstore hotplug-error: ${box.xs.read('/local/domain/0/backend/vif/5/0/hotplug-error')}`);
    say('\nCleaning up: every namespace, dnsmasq and the test xenstored are gone; this machine\'s /etc was never touched.');
    return rows.every((r) => r.address !== 'REFUSED' && r.dhcp.startsWith(r.address)) ? 0 : 1;
  } finally {
    await box.destroy();
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
