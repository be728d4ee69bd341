import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig, DEFAULTS, parseConfigText } from '../../src/core/config';

describe('config', () => {
  it('defaults match the documented ones', () => {
    const config = buildConfig({}, {});
    expect(config.scheme.text).toBe(DEFAULTS.NETWORK);
    expect(config.hostsFile).toBe('/etc/hosts');
    expect(config.ethersFile).toBe('/etc/ethers');
    expect(config.dnsmasqPidFiles).toEqual(['/run/dnsmasq/dnsmasq.pid', '/var/run/dnsmasq.pid']);
    expect(config.lockStaleMs).toBe(3000);
    expect(config.syslogSocket).toBe('/dev/log');
    expect(config.dnsDomain).toBe('xen.internal');
  });

  it('the default DNS domain is the one the shipped dnsmasq drop-in serves', () => {
    const dnsmasq = readFileSync(join(__dirname, '..', '..', 'templates', 'dnsmasq.conf'), 'utf8');
    expect(dnsmasq).toMatch(new RegExp(`^domain=${DEFAULTS.DNS_DOMAIN.replace(/\./g, '\\.')}$`, 'm'));
    const shipped = parseConfigText(readFileSync(join(__dirname, '..', '..', 'templates', 'vif-nat-dns.conf'), 'utf8'), 'vif-nat-dns.conf');
    expect(shipped.DNS_DOMAIN).toBe(DEFAULTS.DNS_DOMAIN);
  });

  it('the shipped config file sets every key to its default', () => {
    const template = readFileSync(join(__dirname, '..', '..', 'templates', 'vif-nat-dns.conf'), 'utf8');
    expect(parseConfigText(template, 'vif-nat-dns.conf')).toEqual(DEFAULTS);
  });

  it('firewall keys: DOM0_SERVICES, ISOLATE, DEVICE_GROUP, KERNEL_ANTISPOOF', () => {
    expect(buildConfig({}, {}).firewall).toEqual({ group: 4646, isolate: false, dom0Services: [] });
    const config = buildConfig(parseConfigText('DOM0_SERVICES="tcp/22 udp/123"\nISOLATE=yes\nDEVICE_GROUP=7\n', 'x.conf'), {});
    expect(config.firewall).toEqual({ group: 7, isolate: true, dom0Services: [{ protocol: 'tcp', ports: '22' }, { protocol: 'udp', ports: '123' }] });
    expect([buildConfig({}, {}).kernelAntispoof, buildConfig({ KERNEL_ANTISPOOF: 'no' }, {}).kernelAntispoof]).toEqual([true, false]);
    expect(() => buildConfig({}, { VIF_NAT_DNS_KERNEL_ANTISPOOF: 'maybe' })).toThrow(/KERNEL_ANTISPOOF="maybe" is not yes\/no/);
  });

  it('file values, then environment overrides', () => {
    const file = parseConfigText('# comment\n\nNETWORK=10.198.0.0/16\nHOSTS_FILE="/srv/hosts"\nSYSLOG = no\n', 'test.conf');
    const config = buildConfig(file, { VIF_NAT_DNS_HOSTS_FILE: '/tmp/hosts' });
    expect(config.scheme.text).toBe('10.198.0.0/16');
    expect(config.hostsFile).toBe('/tmp/hosts');
    expect(config.syslogSocket).toBeUndefined();
  });

  it.each([
    ['NETWORK=$(reboot)', /managed network/],
    ['network=10.0.0.0/8', /expected KEY=VALUE/],
    ['FOO=1', /unknown key FOO/],
    ['LOCK_STALE_MS=500', /2000\.\.60000/],
    ['SYSLOG=maybe', /yes\/no/],
    ['LOG_LEVEL=loud', /error\|warn\|info\|debug/],
    ['DNS_DOMAIN=Xen.Internal', /DNS_DOMAIN="Xen.Internal" is not a DNS domain/],
    ['DNS_DOMAIN=a..b', /not a DNS domain/],
    ['DNS_DOMAIN=-a.b', /not a DNS domain/],
    ['DNS_DOMAIN=a b', /not a DNS domain/],
    ['DOM0_SERVICES=ssh', /DOM0_SERVICES: "ssh" is not tcp/],
    ['DEVICE_GROUP=0', /DEVICE_GROUP="0" is not an integer in 1\.\.2147483647/],
    ['ISOLATE=sometimes', /ISOLATE="sometimes" is not yes\/no/],
    ['ETCD_ENDPOINTS=10.1.0.1:2379\nPOOL_ADDRESS=10.1.0.5', /not http\(s\):\/\/host:port/],
    ['ETCD_ENDPOINTS=http://10.1.0.1:2379', /POOL_ADDRESS="" is not an IPv4 address/],
    ['ETCD_ENDPOINTS=http://10.1.0.1:2379\nPOOL_ADDRESS=10.1.0.5\nETCD_PREFIX=vnd', /ETCD_PREFIX="vnd" must start and end with "\/"/],
    ['ETCD_ENDPOINTS=http://10.1.0.1:2379\nPOOL_ADDRESS=10.1.0.5\nPOOL_RESYNC_S=0', /POOL_RESYNC_S="0" is not an integer in 1\.\.3600/],
  ])('refuses %j with the line or key named', (text, error) => {
    expect(() => buildConfig(parseConfigText(text, 'x.conf'), {})).toThrow(error);
  });

  it('no ETCD_ENDPOINTS: single-host mode; endpoints set: the pool, with its defaults', () => {
    expect(buildConfig({}, {}).pool).toBeUndefined();
    const file = parseConfigText('ETCD_ENDPOINTS=https://10.1.0.1:2379/, https://10.1.0.2:2379\nPOOL_ADDRESS=10.1.0.5\nETCD_CA=/etc/vnd/ca.pem\n', 'x.conf');
    expect(buildConfig(file, {}).pool).toEqual({
      endpoints: ['https://10.1.0.1:2379', 'https://10.1.0.2:2379'], prefix: '/vif-nat-dns/', address: '10.1.0.5',
      tls: { ca: '/etc/vnd/ca.pem', cert: undefined, key: undefined }, timeoutMs: 2000, leaseTtlS: 30, resyncS: 60,
    });
  });
});

describe('templates/vif-nat-dns.conf', () => {
  it('shows every key with its default', () => {
    const template = parseConfigText(require('node:fs').readFileSync(`${__dirname}/../../templates/vif-nat-dns.conf`, 'utf8'), 'template');
    expect(template).toEqual(DEFAULTS);
  });
});
