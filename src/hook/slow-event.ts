// What a hook says when it is still running after WARN_AFTER_MS: the steps it has done and the one it is in (libxl kills it at 40 s, silently).

type Step = readonly [mark: string, doing: string];

/** Online's steps in the order online.ts marks them; `doing` is what the hook does until that step's mark. */
const ONLINE_STEPS: readonly Step[] = [
  ['xenstore', 'reading the vif from xenstore'],
  ['registry', "reserving the guest's address in the pool's registry (etcd)"],
  ['files', 'waiting for its request to be applied to /etc/hosts and /etc/ethers (queued behind the files\' lock)'],
  ['firewall', "adding the vif's anti-spoofing chain (iptables-restore)"],
  ['network', 'configuring the vif (ip) and checking MASQUERADE'],
  ['dnsmasq', "releasing the address's old DHCP leases"],
  ['report', "publishing the guest's configuration and hotplug-status to xenstore"],
];

const OFFLINE_DOING = "tearing the vif down (route, address, anti-spoofing chain, its /etc/ethers line)";

export interface SlowEvent {
  readonly kind: 'up' | 'down';
  readonly command: string;
  readonly device: string;
  /** A pool's online has a registry step; a single host's has none. */
  readonly pool: boolean;
}

/** The warning, from the marks made so far (in order). */
export function slowEventWarning(event: SlowEvent, afterMs: number, done: readonly string[]): string {
  const steps = ONLINE_STEPS.filter(([mark]) => mark !== 'registry' || event.pool);
  const next = steps.find(([mark]) => !done.includes(mark));
  const doing = event.kind === 'down' ? OFFLINE_DOING : next ? next[1] : 'finishing (all its steps are done)';
  const seconds = Number((afterMs / 1000).toFixed(1));
  return `${event.command} ${event.device}: still running after ${seconds} s; steps done: ${done.length ? done.join(', ') : 'none'}; now ${doing}. ` +
    'libxl kills a hotplug script at 40 s: if this repeats, start fewer guests at once or give dom0 more CPU, and run vif-nat-dns-admin doctor';
}
