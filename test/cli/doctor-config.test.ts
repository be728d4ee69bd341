import { describe, expect, it } from 'vitest';
import { configSources } from '../../src/cli/commands/doctor';

describe('dnsmasq configuration sources from its command line', () => {
  it.each([
    [[], ['/etc/dnsmasq.conf'], []],
    [['-k', '--conf-file=/dev/null', '--conf-dir=/etc/dnsmasq.d,*.conf'], [], [{ dir: '/etc/dnsmasq.d', filters: ['*.conf'] }]],
    [['-x', '/run/dnsmasq/dnsmasq.pid', '-7', '/etc/dnsmasq.d,.dpkg-dist,.dpkg-old'], ['/etc/dnsmasq.conf'], [{ dir: '/etc/dnsmasq.d', filters: ['.dpkg-dist', '.dpkg-old'] }]],
    [['-C', '/srv/dnsmasq.conf'], ['/srv/dnsmasq.conf'], []],
  ])('%j', (cmdline, files, dirs) => {
    expect(configSources(cmdline)).toEqual({ files, dirs });
  });
});
