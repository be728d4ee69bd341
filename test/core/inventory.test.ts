import { describe, expect, it } from 'vitest';
import { globMatch, inventory } from '../../src/core/inventory';
import { planForget } from '../../src/core/plan-forget';
import { parseHosts, renderHosts } from '../../src/core/hosts-file';
import { parseEthers, renderEthers } from '../../src/core/ethers-file';
import { parseScheme } from '../../src/core/scheme';

const scheme = parseScheme('10.0.0.0/8');
const hosts = parseHosts('127.0.0.1 localhost\n10.0.1.1\tweb\n10.0.1.2\tweb-2\n10.0.2.1\tci-1\n');
const ethers = parseEthers('00:16:3e:00:00:01 10.0.1.1\n00:16:3e:00:00:02 10.0.2.1\n');

describe('inventory', () => {
  it('lists managed names with their MACs and the vif holding the dom0 side', () => {
    const rows = inventory(scheme, hosts, ethers, new Map([['10.0.1.129', ['vif3.0']]]));
    expect(rows.map((r) => [r.hostname, r.machine, r.y, r.address, r.macs.join(','), r.onlineDevice ?? '-'])).toEqual([
      ['web', 1, 1, '10.0.1.1', '00:16:3e:00:00:01', 'vif3.0'],
      ['web-2', 1, 2, '10.0.1.2', '', '-'],
      ['ci-1', 2, 1, '10.0.2.1', '00:16:3e:00:00:02', '-'],
    ]);
  });

  it.each([['ci-*', 'ci-1', true], ['ci-*', 'web', false], ['c?-1', 'ci-1', true], ['ci', 'ci-1', false], ['a.b', 'axb', false]])('glob %s ~ %s = %s', (p, n, m) => {
    expect(globMatch(p, n)).toBe(m);
  });

  it('forgetting a machine removes all its interfaces\' lines and bindings, nothing else', () => {
    const plan = planForget(scheme, hosts, ethers, new Set([1]));
    expect(renderHosts(plan.hosts)).toBe('127.0.0.1 localhost\n10.0.2.1\tci-1\n');
    expect(renderEthers(plan.ethers)).toBe('00:16:3e:00:00:02 10.0.2.1\n');
  });
});
