import { describe, expect, it } from 'vitest';
import { planOffline } from '../../src/core/plan-offline';
import { revertChange } from '../../src/core/plan-revert';
import { planOnline } from '../../src/core/plan-online';
import { parseHosts, renderHosts } from '../../src/core/hosts-file';
import { parseEthers, renderEthers } from '../../src/core/ethers-file';
import { parseScheme } from '../../src/core/scheme';

const scheme = parseScheme('10.0.0.0/8');
const MAC = '00:16:3e:00:00:01';
const nobody = { ownDevice: 'vif9.0', devicesByAddress: new Map<string, string[]>() };

describe('planOffline', () => {
  it.each([
    ['removes our line only', { domainName: 'web', y: 1, mac: MAC }, `a:b:c:d:e:f 10.0.2.1\n${MAC} 10.0.1.1\n`, 'a:b:c:d:e:f 10.0.2.1\n'],
    ['nothing to remove is fine (second offline)', { domainName: 'web', y: 1, mac: MAC }, '', ''],
    ['dom1 offline never touches dom10', { domainName: 'dom1', y: 1, mac: MAC }, `${MAC} 10.0.9.1\n`, `${MAC} 10.0.9.1\n`],
    ['name gone: found by the address on the device', { y: 1, mac: MAC, dom0IpsOnDevice: ['10.0.1.129'] }, `${MAC} 10.0.1.1\n`, ''],
    ['MAC gone: found by the name\'s address', { domainName: 'web', y: 1 }, `${MAC} 10.0.1.1\n`, ''],
    ['a different MAC on our address (new guest already online) stays', { domainName: 'web', y: 1, mac: '00:16:3e:00:00:02' }, `${MAC} 10.0.1.1\n`, `${MAC} 10.0.1.1\n`],
  ])('%s', (_, request, ethers, after) => {
    const hosts = parseHosts('10.0.1.1 web\n10.0.9.1 dom10\n');
    const plan = planOffline(scheme, hosts, parseEthers(ethers), request, nobody);
    expect(renderEthers(plan.ethers)).toBe(after);
  });

  it('keeps a line whose address another running vif holds', () => {
    const plan = planOffline(scheme, parseHosts('10.0.1.1 web\n'), parseEthers(`${MAC} 10.0.1.1\n`), { domainName: 'web', y: 1, mac: MAC },
      { ownDevice: 'vif9.0', devicesByAddress: new Map([['10.0.1.129', ['vif12.0']]]) });
    expect(plan.removedEthersLines).toEqual([]);
    expect(plan.keptForLiveVif).toEqual([`${MAC} 10.0.1.1`]);
    expect(plan.otherHolder).toBe('vif12.0');
  });

  it('migration: the sender (<name>--migratedaway) leaves the binding the receiver now uses, and names the receiver', () => {
    const plan = planOffline(scheme, parseHosts('10.0.1.1 web\n'), parseEthers(`${MAC} 10.0.1.1\n`), { domainName: 'web--migratedaway', y: 1, mac: MAC },
      { ownDevice: 'vif1.0', devicesByAddress: new Map([['10.0.1.129', ['vif1.0', 'vif2.0']]]) });
    expect(plan.vmIp).toBe('10.0.1.1');
    expect(plan.removedEthersLines).toEqual([]);
    expect(plan.otherHolder).toBe('vif2.0');
  });

  it('migration: with the receiver gone (failed migration cleaned up) the sender\'s later offline removes the binding as usual', () => {
    const plan = planOffline(scheme, parseHosts('10.0.1.1 web\n'), parseEthers(`${MAC} 10.0.1.1\n`), { domainName: 'web', y: 1, mac: MAC },
      { ownDevice: 'vif1.0', devicesByAddress: new Map([['10.0.1.129', ['vif1.0']]]) });
    expect(plan.removedEthersLines).toEqual([`${MAC} 10.0.1.1`]);
    expect(plan.otherHolder).toBeUndefined();
  });
});

describe('revertChange', () => {
  it('undoes an online against files others changed meanwhile', () => {
    const hosts = parseHosts('127.0.0.1 localhost\n');
    const ethers = parseEthers('00:16:3e:00:00:99 10.0.1.1\n');
    const result = planOnline(scheme, parseHosts('127.0.0.1 localhost\n10.0.1.1 web\n'), ethers, { domainName: 'web', y: 1, mac: MAC },
      { ownDevice: 'vif1.0', devicesByAddress: new Map() });
    if (result.kind !== 'plan') throw new Error('expected a plan');
    // meanwhile another hook added a guest
    const nowHosts = parseHosts(`${renderHosts(result.plan.hosts)}10.0.2.1\tdb\n`);
    const nowEthers = parseEthers(`${renderEthers(result.plan.ethers)}00:16:3e:00:00:02 10.0.2.1\n`);
    const reverted = revertChange(nowHosts, nowEthers, result.plan);
    expect(renderHosts(reverted.hosts)).toBe('127.0.0.1 localhost\n10.0.1.1 web\n10.0.2.1\tdb\n');
    expect(renderEthers(reverted.ethers)).toBe('00:16:3e:00:00:02 10.0.2.1\n00:16:3e:00:00:99 10.0.1.1\n');
    expect(renderHosts(hosts)).toBe('127.0.0.1 localhost\n');
  });

  it('removes a first allocation\'s hosts line', () => {
    const result = planOnline(scheme, parseHosts(''), parseEthers(''), { domainName: 'web', y: 1, mac: MAC });
    if (result.kind !== 'plan') throw new Error('expected a plan');
    const reverted = revertChange(result.plan.hosts, result.plan.ethers, result.plan);
    expect(renderHosts(reverted.hosts)).toBe('');
    expect(renderEthers(reverted.ethers)).toBe('');
  });
});

describe('planOffline without a name', () => {
  it('falls back to our MAC at any managed address when neither name nor device address is known', () => {
    const plan = planOffline(scheme, parseHosts(''), parseEthers(`${MAC} 10.0.4.1\n${MAC} 192.168.0.1\n`), { y: 1, mac: MAC }, nobody);
    expect(renderEthers(plan.ethers)).toBe(`${MAC} 192.168.0.1\n`);
  });
});
