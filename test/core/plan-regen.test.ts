import { describe, expect, it } from 'vitest';
import { planRegen } from '../../src/core/plan-regen';
import { parseHosts, renderHosts } from '../../src/core/hosts-file';
import { parseEthers, renderEthers } from '../../src/core/ethers-file';
import { parseScheme } from '../../src/core/scheme';

const scheme = parseScheme('10.0.0.0/8');
const vif = (domid: number, devid: number, domainName: string, mac: string) => ({ domid, devid, domainName, mac });

describe('planRegen', () => {
  it('rebuilds the managed lines from running vifs and keeps every other line verbatim', () => {
    const hosts = parseHosts('127.0.0.1 localhost\n10.0.1.1\tweb\n10.0.2.1\tgone\n');
    const ethers = parseEthers('# static\n08:00:20:00:00:01 pluto\n00:16:3e:00:00:99 10.0.2.1\n00:16:3e:00:00:02 10.0.1.1\n');
    const plan = planRegen(scheme, hosts, ethers, [vif(5, 0, 'web', '00:16:3e:00:00:01'), vif(6, 0, 'new', '00:16:3e:00:00:06')]);
    expect(renderEthers(plan.ethers)).toBe('# static\n08:00:20:00:00:01 pluto\n00:16:3e:00:00:01 10.0.1.1\n00:16:3e:00:00:06 10.0.3.1\n');
    expect(renderHosts(plan.hosts)).toBe('127.0.0.1 localhost\n10.0.1.1\tweb\n10.0.2.1\tgone\n10.0.3.1\tnew\n');
    expect(plan.removedEthersLines).toEqual(['00:16:3e:00:00:99 10.0.2.1', '00:16:3e:00:00:02 10.0.1.1']);
  });

  it('changes nothing when the files already match what runs', () => {
    const hosts = parseHosts('10.0.1.1\tweb\n');
    const ethers = parseEthers('00:16:3e:00:00:01 10.0.1.1\n');
    const plan = planRegen(scheme, hosts, ethers, [vif(5, 0, 'web', '00:16:3e:00:00:01')]);
    expect(plan.addedEthersLines).toEqual([]);
    expect(plan.removedEthersLines).toEqual([]);
    expect(renderEthers(plan.ethers)).toBe('00:16:3e:00:00:01 10.0.1.1\n');
  });

  it('skips the second of two running vifs that derive the same address, saying why', () => {
    const plan = planRegen(scheme, parseHosts(''), parseEthers(''), [vif(5, 0, 'Web', '00:16:3e:00:00:01'), vif(6, 0, 'web', '00:16:3e:00:00:02')]);
    expect(plan.addedEthersLines).toEqual(['00:16:3e:00:00:01 10.0.1.1']);
    expect(plan.skipped).toEqual(['domain 6 (web) vif 0: 10.0.1.1 already belongs to domain 5 (Web) vif 0']);
  });

  it.each([
    ['a registered name is bound here', 'web', new Map<string, string>(), ['00:16:3e:00:00:01 10.0.1.1'], []],
    ['a name the files lack gets no address (the registry gives them)', 'new', new Map<string, string>(), [], ['domain 5 (new) vif 0: new is not in the pool registry']],
    ['a name bound on another host is not bound here', 'web', new Map([['web', '192.0.2.12']]), [],
      ['domain 5 (web) vif 0: web runs on pool host 192.0.2.12 per the registry (migrated away, or two domains of one name)']],
  ])('in a pool: %s', (_, domainName, boundElsewhere, added, skipped) => {
    const plan = planRegen(scheme, parseHosts('10.0.1.1\tweb\n'), parseEthers(''), [vif(5, 0, domainName, '00:16:3e:00:00:01')],
      { unregistered: 'is not in the pool registry', boundElsewhere });
    expect(plan.addedEthersLines).toEqual(added);
    expect(plan.addedHostsLines).toEqual([]);
    expect(plan.skipped).toEqual(skipped);
  });
});
