import { describe, expect, it } from 'vitest';
import { planInstall, planUninstall } from '../../src/core/plan-install';

const item = { target: '/etc/xen/scripts/vif-nat-dns', hash: 'new', mode: 0o755 };

describe('install plans', () => {
  it.each([
    ['absent', new Map(), new Map(), 'write'],
    ['identical', new Map([[item.target, 'new']]), new Map(), 'same'],
    ['ours, unchanged since', new Map([[item.target, 'old']]), new Map([[item.target, 'old']]), 'write'],
    ['changed by the administrator', new Map([[item.target, 'edited']]), new Map([[item.target, 'old']]), 'keep-changed'],
    ['not ours at all', new Map([[item.target, 'theirs']]), new Map(), 'keep-changed'],
  ])('%s -> %s', (_, current, manifest, kind) => {
    expect(planInstall([item], current, manifest)[0]!.kind).toBe(kind);
  });

  it('uninstall removes only unchanged files', () => {
    const manifest = new Map([['/a', '1'], ['/b', '2'], ['/c', '3']]);
    expect(planUninstall(new Map([['/a', '1'], ['/b', 'edited']]), manifest)).toEqual([
      { kind: 'remove', path: '/a' }, { kind: 'keep-changed', path: '/b' }, { kind: 'gone', path: '/c' },
    ]);
  });
});
