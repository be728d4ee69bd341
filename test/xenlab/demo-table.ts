// The table npm run demo:xen prints: one row per guest NIC, every value as the guest itself or xenstore reported it.
import type { ScenarioData } from './dom0/scenarios';

export function demoTable(data: ScenarioData<'demo'>): string {
  const heads = ['guest (xl name)', 'domid', 'NIC', 'MAC (made up by xl)', 'hook said', 'DHCP lease (guest)', 'DNS answer (guest)', 'NAT egress seen as', 'hotplug-status'];
  const rows = data.created.flatMap((guest) => guest.nics.map((nic, devid) => {
    const hook = guest.hookLines.find((l) => l.includes(`vif${guest.domid}.${devid}:`)) ?? '';
    const said = /: (\S+) (\S+) \(/.exec(hook);
    return [guest.name, String(guest.domid ?? '-'), nic.nic, nic.mac, said ? `${said[1]} ${said[2]}` : 'no event line',
      nic.lease ? `${nic.lease.ip} via ${nic.lease.router}` : 'none', nic.dnsAnswer ? `${guest.boot?.nics.eth0?.dns?.name} = ${nic.dnsAnswer}` : (devid === 0 ? 'none' : '(eth0 only)'),
      nic.egressSeen ?? (devid === 0 ? 'none' : '(eth0 only)'), nic.hotplugStatus || '-'];
  }));
  const width = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i]!)).join('  ').trimEnd();
  return [line(heads), line(width.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
