// The console lines of the lab's guests become boots with each NIC's lease, DNS answer and NAT egress.
import { describe, expect, it } from 'vitest';
import { parseGuestReports } from './guest-reports';

const log = `[    0.000000] Linux version 6.1.0
VNDLAB - BOOT id=aaa
VNDLAB eth0 LEASE ip=10.0.1.1 mask=8 router=10.0.1.129 dns=10.0.1.129 domain=xen.internal hostname=lab-a tries=1
VNDLAB eth1 LEASE ip=10.0.1.2 mask=8 router=10.0.1.130 dns=10.0.1.130 domain=xen.internal hostname=lab-a-2 tries=3
VNDLAB eth0 DNS name=lab-a.xen.internal server=10.0.1.129 answer=10.0.1.1
VNDLAB eth0 EGRESS target=192.0.2.2:8080 seen=192.0.2.1\r
VNDLAB eth1 GONE
VNDLAB - POWEROFF
noise VNDLAB eth0 LEASE ip=9.9.9.9
VNDLAB - BOOT id=bbb
VNDLAB eth0 LEASE ip=10.0.1.1 mask=8 router=10.0.1.129 dns=10.0.1.129 tries=1
`;

const staticLog = `VNDLAB - BOOT id=ccc
VNDLAB-LOG eth0: vif-nat-dns-guest: eth0 10.0.4.1/8 via 10.0.4.129, dns 10.0.4.129, hostname lab-s (from xenstore vif-nat-dns/0)
VNDLAB eth0 STATIC exit=0 source=vif-nat-dns/0 addr=10.0.4.1/8 gateway=10.0.4.129 nameserver=10.0.4.129 search=xen.internal hostname=lab-s xenbus=/dev/xen/xenbus script_md5=0123abcd
VNDLAB eth0 XSWRITE node=vif-nat-dns/0/ip before=10.0.4.1 write_exit=1 rm_exit=1 reply=16:EACCES after=10.0.4.1
VNDLAB eth0 DNS name=lab-s.xen.internal server=resolv.conf answer=10.0.4.1
`;

describe('parseGuestReports', () => {
  it('keeps a DHCP-less guest\'s configuration from xenstore and its attempt to overwrite a published node', () => {
    const [boot] = parseGuestReports(staticLog);
    expect(boot!.nics.eth0).toEqual({
      static: {
        exit: 0, source: 'vif-nat-dns/0', addr: '10.0.4.1/8', gateway: '10.0.4.129', nameserver: '10.0.4.129', search: 'xen.internal',
        hostname: 'lab-s', xenbus: '/dev/xen/xenbus', scriptMd5: '0123abcd',
      },
      tamper: { node: 'vif-nat-dns/0/ip', before: '10.0.4.1', writeExit: 1, rmExit: 1, reply: '16:EACCES', after: '10.0.4.1' },
      dns: { name: 'lab-s.xen.internal', server: 'resolv.conf', answer: '10.0.4.1' },
    });
    expect(parseGuestReports('VNDLAB - BOOT id=d\nVNDLAB eth0 STATIC exit=1\n')[0]!.nics.eth0!.static).toMatchObject({ exit: 1, source: '', addr: '' });
  });


  const boots = parseGuestReports(log);

  it('splits the log into boots and keeps each NIC\'s results', () => {
    expect(boots.map((b) => b.id)).toEqual(['aaa', 'bbb']);
    expect(boots[0]!.nics.eth0).toEqual({
      lease: { ip: '10.0.1.1', mask: '8', router: '10.0.1.129', dns: '10.0.1.129', hostname: 'lab-a', tries: 1 },
      dns: { name: 'lab-a.xen.internal', server: '10.0.1.129', answer: '10.0.1.1' },
      egress: { target: '192.0.2.2:8080', seen: '192.0.2.1' },
    });
    expect(boots[0]!.nics.eth1).toMatchObject({ lease: { ip: '10.0.1.2', tries: 3 }, gone: true });
    expect(boots[0]!.poweroff).toBe(true);
    expect(boots[1]!.poweroff).toBe(false);
  });

  it('ignores lines that do not start with the marker, and reports before any boot', () => {
    expect(boots[1]!.nics.eth0!.lease!.ip).toBe('10.0.1.1');
    expect(parseGuestReports('VNDLAB eth0 LEASE ip=10.0.0.1\n')).toEqual([]);
    expect(parseGuestReports('')).toEqual([]);
  });

  it('leaves missing fields empty rather than inventing them', () => {
    expect(boots[1]!.nics.eth0!.lease).toMatchObject({ hostname: '', tries: 1 });
  });
});
