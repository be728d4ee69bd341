// The sysctl configuration reader: every *.conf of every sysctl.d directory, then /etc/sysctl.conf; what is missing is skipped.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSysctlConfig } from '../../src/edges/sysctl-config';

let root: string;
beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'vnd-sysctl-')); });
afterEach(() => rmSync(root, { recursive: true, force: true }));

const put = (path: string, text: string) => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
};

describe('readSysctlConfig', () => {
  it('reads each directory\'s .conf files in name order, then /etc/sysctl.conf', () => {
    put('/usr/lib/sysctl.d/50-default.conf', 'net.ipv4.conf.*.rp_filter = 2\n');
    put('/etc/sysctl.d/99-local.conf', 'b\n');
    put('/etc/sysctl.d/10-first.conf', 'a\n');
    put('/etc/sysctl.d/README', 'not a .conf\n');
    put('/etc/sysctl.conf', 'c\n');
    expect(readSysctlConfig(root)).toEqual([
      { path: '/etc/sysctl.d/10-first.conf', text: 'a\n' },
      { path: '/etc/sysctl.d/99-local.conf', text: 'b\n' },
      { path: '/usr/lib/sysctl.d/50-default.conf', text: 'net.ipv4.conf.*.rp_filter = 2\n' },
      { path: '/etc/sysctl.conf', text: 'c\n' },
    ]);
  });

  it('a host without any of them has no configuration', () => {
    expect(readSysctlConfig(root)).toEqual([]);
  });
});
