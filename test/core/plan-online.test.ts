import { describe, expect, it } from 'vitest';
import { planOnline, type Liveness } from '../../src/core/plan-online';
import { parseHosts, renderHosts } from '../../src/core/hosts-file';
import { parseEthers, renderEthers } from '../../src/core/ethers-file';
import { parseScheme } from '../../src/core/scheme';

const scheme = parseScheme('10.0.0.0/8');
const MAC = '00:16:3e:00:00:01';
const OTHER = '00:16:3e:00:00:99';
const live = (map: Record<string, string | string[]>, own = 'vif9.0'): Liveness =>
  ({ ownDevice: own, devicesByAddress: new Map(Object.entries(map).map(([ip, devices]) => [ip, typeof devices === 'string' ? [devices] : devices])) });

function plan(hosts: string, ethers: string, liveness?: Liveness, request = { domainName: 'web', y: 1, mac: MAC }) {
  return planOnline(scheme, parseHosts(hosts), parseEthers(ethers), request, liveness);
}

describe('planOnline', () => {
  it.each([
    ['new guest', '', '', '10.0.1.1\tweb\n', `${MAC} 10.0.1.1\n`, []],
    ['known guest, same MAC: nothing changes', '10.0.1.1\tweb\n', `${MAC} 10.0.1.1\n`, '10.0.1.1\tweb\n', `${MAC} 10.0.1.1\n`, []],
    ['keeps others\' ethers lines and comments', '10.0.1.1 web\n', `# hand-made\n08:00:20:00:00:01 pluto\n`, '10.0.1.1 web\n', `# hand-made\n08:00:20:00:00:01 pluto\n${MAC} 10.0.1.1\n`, []],
    ['exact duplicate of our line is dropped', '10.0.1.1 web\n', `${MAC} 10.0.1.1\n${MAC} 10.0.1.1\n`, '10.0.1.1 web\n', `${MAC} 10.0.1.1\n`, []],
  ])('%s', (_, hosts, ethers, hostsAfter, ethersAfter, displaced) => {
    const result = plan(hosts, ethers);
    expect(result.kind).toBe('plan');
    if (result.kind !== 'plan') return;
    expect(renderHosts(result.plan.hosts)).toBe(hostsAfter);
    expect(renderEthers(result.plan.ethers)).toBe(ethersAfter);
    expect(result.plan.displacedMacs).toEqual(displaced);
  });

  it('asks for liveness only when another MAC holds our address', () => {
    expect(plan('10.0.1.1 web\n', `${OTHER} 10.0.1.1\n`).kind).toBe('needs-liveness');
  });

  it('takes over an address whose holder\'s vif is gone (new MAC after a restart)', () => {
    const result = plan('10.0.1.1 web\n', `${OTHER} 10.0.1.1\n`, live({ '10.0.1.129': 'vif9.0' }));
    if (result.kind !== 'plan') throw new Error('expected a plan');
    expect(renderEthers(result.plan.ethers)).toBe(`${MAC} 10.0.1.1\n`);
    expect(result.plan.displacedMacs).toEqual([OTHER]);
    expect(result.plan.removedEthersLines).toEqual([`${OTHER} 10.0.1.1`]);
  });

  it('refuses an address whose holder\'s vif is still up', () => {
    expect(() => plan('10.0.1.1 web\n', `${OTHER} 10.0.1.1\n`, live({ '10.0.1.129': 'vif3.0' }))).toThrow(/bound in \/etc\/ethers to 00:16:3e:00:00:99, whose vif vif3.0 is still up/);
  });

  it('refuses a MAC already used by another running vif, drops it when that vif is gone', () => {
    const ethers = `${MAC} 10.0.2.1\n`;
    expect(() => plan('10.0.2.1 db\n', ethers, live({ '10.0.2.129': 'vif4.0' }))).toThrow(/already used by the running vif vif4.0/);
    const result = plan('10.0.2.1 db\n', ethers, live({}));
    if (result.kind !== 'plan') throw new Error('expected a plan');
    expect(renderEthers(result.plan.ethers)).toBe(`${MAC} 10.0.1.1\n`);
  });

  it('migration: the receiving domain (<name>--incoming, same MAC) gets the sender\'s address and changes no file', () => {
    const hosts = '10.0.1.1\tweb\n';
    const ethers = `${MAC} 10.0.1.1\n`;
    const result = plan(hosts, ethers, live({ '10.0.1.129': 'vif1.0' }, 'vif2.0'), { domainName: 'web--incoming', y: 1, mac: MAC });
    if (result.kind !== 'plan') throw new Error('expected a plan');
    expect(result.plan.allocation).toMatchObject({ hostname: 'web', vmIp: '10.0.1.1', dom0Ip: '10.0.1.129' });
    expect(renderHosts(result.plan.hosts)).toBe(hosts);
    expect(renderEthers(result.plan.ethers)).toBe(ethers);
    expect(result.plan.addedHostsLines).toEqual([]);
  });

  it('migration naming is no way around a clash: another MAC under <name>--incoming while <name> runs is refused', () => {
    expect(() => plan('10.0.1.1\tweb\n', `${MAC} 10.0.1.1\n`, live({ '10.0.1.129': 'vif1.0' }, 'vif2.0'), { domainName: 'web--incoming', y: 1, mac: OTHER }))
      .toThrow(/web's address 10.0.1.1 is bound in \/etc\/ethers to 00:16:3e:00:00:01, whose vif vif1.0 is still up/);
  });

  it('leaves our MAC alone where it points outside the scheme', () => {
    const result = plan('', `${MAC} 192.168.0.5\n`);
    if (result.kind !== 'plan') throw new Error('expected a plan');
    expect(renderEthers(result.plan.ethers)).toBe(`${MAC} 192.168.0.5\n${MAC} 10.0.1.1\n`);
  });
});
