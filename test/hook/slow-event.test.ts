// The warning of a hook still running after WARN_AFTER_MS: the steps done, the one it is in, for online (single host, pool) and offline.
import { describe, expect, it } from 'vitest';
import { slowEventWarning, type SlowEvent } from '../../src/hook/slow-event';

const online: SlowEvent = { kind: 'up', command: 'online', device: 'vif7.0', pool: false };

describe('slowEventWarning', () => {
  it.each([
    [online, [], 'steps done: none; now reading the vif from xenstore.'],
    [online, ['xenstore'], 'steps done: xenstore; now waiting for its request to be applied to /etc/hosts and /etc/ethers'],
    [{ ...online, pool: true }, ['xenstore'], "steps done: xenstore; now reserving the guest's address in the pool's registry (etcd)."],
    [{ ...online, pool: true }, ['xenstore', 'registry'], 'steps done: xenstore, registry; now waiting for its request to be applied'],
    [online, ['xenstore', 'files'], "now adding the vif's anti-spoofing chain (iptables-restore)."],
    [online, ['xenstore', 'files', 'firewall'], 'now configuring the vif (ip) and checking MASQUERADE.'],
    [online, ['xenstore', 'files', 'firewall', 'network', 'dnsmasq'], "now publishing the guest's configuration and hotplug-status to xenstore."],
    [online, ['xenstore', 'files', 'firewall', 'network', 'dnsmasq', 'report'], 'now finishing (all its steps are done).'],
    [{ kind: 'down', command: 'offline', device: 'vif7.0', pool: false } as SlowEvent, [], 'steps done: none; now tearing the vif down'],
  ] as const)('%o after %o', (event, done, expected) => {
    expect(slowEventWarning(event, 30_000, done)).toContain(expected);
  });

  it('names the event, the delay and libxl\'s 40 s, and says what to do', () => {
    const text = slowEventWarning({ ...online, command: 'add', device: 'vif7.0-emu' }, 1500, ['xenstore']);
    expect(text).toMatch(/^add vif7\.0-emu: still running after 1\.5 s; /);
    expect(text).toMatch(/libxl kills a hotplug script at 40 s: .*start fewer guests at once .*vif-nat-dns-admin doctor$/);
  });
});
