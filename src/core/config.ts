// Configuration: KEY=VALUE file plus VIF_NAT_DNS_<KEY> environment overrides; every key has a documented default.
import { VifError } from './errors';
import { parseScheme, type Scheme } from './scheme';
import { parseServices, type FirewallPolicy } from './firewall-rules';
import { parseIPv4 } from './ipv4';

export const DEFAULT_CONFIG_PATH = '/etc/xen/vif-nat-dns.conf';

/**
 * Written by `network-nat-dns start` ("masquerade <network> <uplink>": the boot step did the host-wide NAT, hooks need not
 * check it) and by regen-firewall ("firewall ...": the shared chains are in place; see core/antispoof.ts).
 */
export const NETWORK_STARTED_MARKER = '/run/vif-nat-dns/network-started';

/** Written by `pool watch` while it runs (its pid), so doctor can tell whether the watcher runs. */
export const POOL_WATCHER_PID_FILE = '/run/vif-nat-dns/pool-watch.pid';

export const DEFAULTS = {
  NETWORK: '10.0.0.0/8',
  HOSTS_FILE: '/etc/hosts',
  ETHERS_FILE: '/etc/ethers',
  LOCK_PATH: '/run/vif-nat-dns.lock',
  SPOOL_DIR: '/run/vif-nat-dns/queue',
  DNSMASQ_PID_FILES: '/run/dnsmasq/dnsmasq.pid /var/run/dnsmasq.pid',
  DNSMASQ_LEASE_FILE: '/var/lib/misc/dnsmasq.leases',
  NETDEV: '',
  LOG_LEVEL: 'info',
  SYSLOG: 'yes',
  SYSLOG_SOCKET: '/dev/log',
  LOCK_STALE_MS: '3000',
  LOCK_WAIT_MS: '30000',
  LOCK_RETRY_MAX_MS: '100',
  WARN_AFTER_MS: '30000',
  TAP_ROUTE_METRIC: '10',
  DHCP_RELEASE: 'yes',
  DNS_DOMAIN: 'xen.internal',
  ISOLATE: 'no',
  DOM0_SERVICES: '',
  DEVICE_GROUP: '4646',
  KERNEL_ANTISPOOF: 'yes',
  ETCD_ENDPOINTS: '',
  ETCD_PREFIX: '/vif-nat-dns/',
  POOL_ADDRESS: '',
  ETCD_CA: '',
  ETCD_CERT: '',
  ETCD_KEY: '',
  ETCD_TIMEOUT_MS: '2000',
  POOL_LEASE_TTL: '30',
  POOL_RESYNC_S: '60',
} as const;

export type ConfigKey = keyof typeof DEFAULTS;
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface Config {
  readonly scheme: Scheme;
  readonly hostsFile: string;
  readonly ethersFile: string;
  readonly lockPath: string;
  readonly spoolDir: string;
  readonly dnsmasqPidFiles: readonly string[];
  readonly dnsmasqLeaseFile: string;
  readonly netdev: string;
  readonly logLevel: LogLevel;
  readonly syslogSocket: string | undefined; // undefined: SYSLOG=no
  readonly lockStaleMs: number;
  readonly lockWaitMs: number;
  readonly lockRetryMaxMs: number;
  /** A hook still running after this long says on stderr what it has done so far (libxl kills it at 40 s). */
  readonly warnAfterMs: number;
  readonly tapRouteMetric: number;
  readonly dhcpRelease: boolean;
  readonly dnsDomain: string;
  readonly firewall: FirewallPolicy;
  /** Where it can, a vif's sources are checked by the kernel's strict reverse-path filter instead of a chain (core/antispoof.ts). */
  readonly kernelAntispoof: boolean;
  /** A pool of dom0s sharing one registry in etcd; undefined (ETCD_ENDPOINTS empty): single-host mode. */
  readonly pool: PoolConfig | undefined;
}

export interface PoolConfig {
  readonly endpoints: readonly string[]; // http:// or https:// URLs of etcd members
  readonly prefix: string; // every key lives under it; ends with '/'
  readonly address: string; // this dom0 on the hosts' network: the other dom0s route our guests through it (and our host id)
  readonly tls: { readonly ca?: string; readonly cert?: string; readonly key?: string }; // file paths
  readonly timeoutMs: number; // one request to the cluster, over all endpoints
  readonly leaseTtlS: number; // a dead host's bindings expire after this long
  readonly resyncS: number; // the watcher's full pass without a change: catches up what a hook could not do in the registry
}

/** Parse `KEY=VALUE` lines; `#` comments and blank lines ignored; values may be "quoted". Never evaluated. */
export function parseConfigText(text: string, source: string): Partial<Record<ConfigKey, string>> {
  const values: Partial<Record<ConfigKey, string>> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) {
      throw new VifError('BAD_CONFIG', `${source}:${i + 1}: expected KEY=VALUE, got ${JSON.stringify(line.slice(0, 60))}`, 'fix that line (see templates/vif-nat-dns.conf)', { source, line: i + 1 });
    }
    const key = match[1] as ConfigKey;
    if (!(key in DEFAULTS)) {
      throw new VifError('BAD_CONFIG', `${source}:${i + 1}: unknown key ${key}`, `known keys: ${Object.keys(DEFAULTS).join(', ')}`, { source, key });
    }
    values[key] = match[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  });
  return values;
}

function integer(key: ConfigKey, value: string, min: number, max: number): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    throw new VifError('BAD_CONFIG', `${key}=${JSON.stringify(value)} is not an integer in ${min}..${max}`, `fix ${key} in the config file or VIF_NAT_DNS_${key}`, { key, value });
  }
  return n;
}

function flag(key: ConfigKey, value: string): boolean {
  if (/^(yes|true|1|on)$/i.test(value)) return true;
  if (/^(no|false|0|off)$/i.test(value)) return false;
  throw new VifError('BAD_CONFIG', `${key}=${JSON.stringify(value)} is not yes/no`, `set ${key}=yes or ${key}=no`, { key, value });
}

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function dnsDomain(value: string): string {
  if (!DNS_NAME.test(value)) {
    throw new VifError('BAD_CONFIG', `DNS_DOMAIN=${JSON.stringify(value)} is not a DNS domain (lower-case labels of a-z 0-9 -, joined by dots)`,
      'set DNS_DOMAIN to the domain= of the dnsmasq drop-in, e.g. xen.internal', { key: 'DNS_DOMAIN', value });
  }
  return value;
}

/** Defaults, then the file, then VIF_NAT_DNS_<KEY> from the environment. */
export function buildConfig(fileValues: Partial<Record<ConfigKey, string>>, env: Readonly<Record<string, string | undefined>>): Config {
  const get = (key: ConfigKey): string => env[`VIF_NAT_DNS_${key}`] ?? fileValues[key] ?? DEFAULTS[key];
  const level = get('LOG_LEVEL');
  if (!['error', 'warn', 'info', 'debug'].includes(level)) {
    throw new VifError('BAD_CONFIG', `LOG_LEVEL=${JSON.stringify(level)} is not error|warn|info|debug`, 'fix LOG_LEVEL', { key: 'LOG_LEVEL', value: level });
  }
  return {
    scheme: parseScheme(get('NETWORK')),
    hostsFile: get('HOSTS_FILE'),
    ethersFile: get('ETHERS_FILE'),
    lockPath: get('LOCK_PATH'),
    spoolDir: get('SPOOL_DIR'),
    dnsmasqPidFiles: get('DNSMASQ_PID_FILES').split(/[\s:]+/).filter(Boolean),
    dnsmasqLeaseFile: get('DNSMASQ_LEASE_FILE'),
    netdev: get('NETDEV'),
    logLevel: level as LogLevel,
    syslogSocket: flag('SYSLOG', get('SYSLOG')) ? get('SYSLOG_SOCKET') : undefined,
    lockStaleMs: integer('LOCK_STALE_MS', get('LOCK_STALE_MS'), 2000, 60000),
    lockWaitMs: integer('LOCK_WAIT_MS', get('LOCK_WAIT_MS'), 100, 600000),
    lockRetryMaxMs: integer('LOCK_RETRY_MAX_MS', get('LOCK_RETRY_MAX_MS'), 10, 2000),
    warnAfterMs: integer('WARN_AFTER_MS', get('WARN_AFTER_MS'), 100, 600000),
    tapRouteMetric: integer('TAP_ROUTE_METRIC', get('TAP_ROUTE_METRIC'), 1, 65535),
    dhcpRelease: flag('DHCP_RELEASE', get('DHCP_RELEASE')),
    dnsDomain: dnsDomain(get('DNS_DOMAIN')),
    firewall: {
      group: integer('DEVICE_GROUP', get('DEVICE_GROUP'), 1, 2147483647),
      isolate: flag('ISOLATE', get('ISOLATE')),
      dom0Services: parseServices(get('DOM0_SERVICES')),
    },
    kernelAntispoof: flag('KERNEL_ANTISPOOF', get('KERNEL_ANTISPOOF')),
    pool: poolConfig(get),
  };
}

function poolConfig(get: (key: ConfigKey) => string): PoolConfig | undefined {
  const endpoints = get('ETCD_ENDPOINTS').split(/[\s,]+/).filter(Boolean);
  if (endpoints.length === 0) return undefined;
  for (const url of endpoints) {
    if (!/^https?:\/\/[^\s/]+\/?$/.test(url)) {
      throw new VifError('BAD_CONFIG', `ETCD_ENDPOINTS entry ${JSON.stringify(url)} is not http(s)://host:port`, 'list the etcd members\' client URLs, comma-separated, e.g. https://10.1.0.1:2379', { key: 'ETCD_ENDPOINTS', value: url });
    }
  }
  const prefix = get('ETCD_PREFIX');
  if (!/^\/[\x21-\x7e]*\/$/.test(prefix)) {
    throw new VifError('BAD_CONFIG', `ETCD_PREFIX=${JSON.stringify(prefix)} must start and end with "/" and hold no blanks`, 'e.g. ETCD_PREFIX=/vif-nat-dns/', { key: 'ETCD_PREFIX', value: prefix });
  }
  const address = get('POOL_ADDRESS');
  if (parseIPv4(address) === undefined) {
    throw new VifError('BAD_CONFIG', `POOL_ADDRESS=${JSON.stringify(address)} is not an IPv4 address, and a pool (ETCD_ENDPOINTS set) needs one`,
      'set POOL_ADDRESS to this dom0\'s address on the hosts\' network (the other dom0s route its guests through it)', { key: 'POOL_ADDRESS', value: address });
  }
  const file = (key: ConfigKey) => get(key) || undefined;
  return {
    endpoints: endpoints.map((url) => url.replace(/\/$/, '')),
    prefix,
    address,
    tls: { ca: file('ETCD_CA'), cert: file('ETCD_CERT'), key: file('ETCD_KEY') },
    timeoutMs: integer('ETCD_TIMEOUT_MS', get('ETCD_TIMEOUT_MS'), 100, 20000),
    leaseTtlS: integer('POOL_LEASE_TTL', get('POOL_LEASE_TTL'), 2, 3600),
    resyncS: integer('POOL_RESYNC_S', get('POOL_RESYNC_S'), 1, 3600),
  };
}
