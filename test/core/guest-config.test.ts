import { describe, expect, it } from 'vitest';
import { guestConfigFor, guestConfigNodes, planPublish, planUnpublish } from '../../src/core/guest-config';

const config = guestConfigFor(7, 1, { vmIp: '10.0.3.2', dom0Ip: '10.0.3.130', hostname: 'web-2' }, 8, 'xen.internal', '00:16:3e:00:03:02');

describe('the configuration published for a guest', () => {
  it('is its address, the network prefix, dom0\'s side of the vif as gateway and DNS server, its name, domain and MAC', () => {
    expect(guestConfigNodes(config)).toEqual({
      ip: '10.0.3.2', prefix: '8', gateway: '10.0.3.130', dns: '10.0.3.130', hostname: 'web-2', domain: 'xen.internal', mac: '00:16:3e:00:03:02',
    });
  });

  it('replaces the interface\'s directory as a whole, with every node and both directories owned by dom0 and readable by the guest only', () => {
    const changes = planPublish(config);
    expect(changes.slice(0, 5)).toEqual([
      { op: 'rm', path: '/local/domain/7/vif-nat-dns/1' },
      { op: 'mkdir', path: '/local/domain/7/vif-nat-dns' },
      { op: 'set-perms', path: '/local/domain/7/vif-nat-dns', perms: ['n0', 'r7'] },
      { op: 'mkdir', path: '/local/domain/7/vif-nat-dns/1' },
      { op: 'set-perms', path: '/local/domain/7/vif-nat-dns/1', perms: ['n0', 'r7'] },
    ]);
    const written = changes.filter((c) => c.op === 'write').map((c) => c.path);
    expect(written).toEqual(['ip', 'prefix', 'gateway', 'dns', 'hostname', 'domain', 'mac'].map((n) => `/local/domain/7/vif-nat-dns/1/${n}`));
    for (const path of written) {
      const after = changes.slice(changes.findIndex((c) => c.path === path && c.op === 'write') + 1);
      expect(after[0]).toEqual({ op: 'set-perms', path, perms: ['n0', 'r7'] });
    }
    expect(changes.filter((c) => c.op === 'rm')).toHaveLength(1);
  });

  it.each([[0, 0], [12, 5], [32751, 126]])('domain %i vif %i: unpublishing removes exactly that interface\'s directory', (domid, devid) => {
    expect(planUnpublish(domid, devid)).toEqual([{ op: 'rm', path: `/local/domain/${domid}/vif-nat-dns/${devid}` }]);
  });
});
