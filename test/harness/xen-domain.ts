// Populates the test xenstored as libxl (or xend) does for a domain's vif, and builds the hook's environment for it.
import type { FakeXenstored } from './fake-xenstored';

export interface VifSpec {
  readonly domid: number;
  readonly devid: number;
  readonly name: string;
  readonly mac: string;
  readonly ip?: string;
  readonly vifname?: string;
  readonly toolstack?: 'xl' | 'xend';
}

/** A MAC for test guests: Xen's OUI, a tag octet to tell test groups apart, and n (0..65535) in the last two. */
export function testMac(tag: number, n: number): string {
  return ['00', '16', '3e', tag, (n >> 8) & 255, n & 255].map((o) => (typeof o === 'string' ? o : o.toString(16).padStart(2, '0'))).join(':');
}

export function backendPath(spec: Pick<VifSpec, 'domid' | 'devid'>): string {
  return `/local/domain/0/backend/vif/${spec.domid}/${spec.devid}`;
}

/**
 * The nodes libxl writes for a vif (libxl_nic.c), plus the domain's name; xend also writes `domain` under the backend.
 * Permissions as libxl sets them (libxl_create.c, libxl_device.c): the domain's home dom0-owned and readable by the
 * guest, its device/ frontend directory owned by the guest, the backend directory dom0-owned and readable by the guest.
 */
export function populateVif(xs: FakeXenstored, spec: VifSpec): void {
  const be = backendPath(spec);
  const home = `/local/domain/${spec.domid}`;
  const frontend = `${home}/device/vif/${spec.devid}`;
  if (xs.perms(home) === undefined) { xs.write(home, ''); xs.setPerms(home, ['n0', `r${spec.domid}`]); }
  if (xs.perms(`${home}/device`) === undefined) { xs.write(`${home}/device`, ''); xs.setPerms(`${home}/device`, [`n${spec.domid}`, 'r0']); }
  const nodes: Record<string, string> = {
    'frontend-id': String(spec.domid), handle: String(spec.devid), mac: spec.mac, script: '/etc/xen/scripts/vif-nat-dns',
    online: '1', state: '2', type: 'vif_ioemu', bridge: '', gatewaydev: '', 'hotplug-status': '', frontend,
  };
  if (spec.ip !== undefined) nodes.ip = spec.ip;
  if (spec.vifname !== undefined) nodes.vifname = spec.vifname;
  if (spec.toolstack === 'xend') nodes.domain = spec.name;
  xs.write(be, '');
  xs.setPerms(be, ['n0', `r${spec.domid}`]);
  for (const [node, value] of Object.entries(nodes)) xs.write(`${be}/${node}`, value);
  if (spec.toolstack !== 'xend') xs.write(`${home}/name`, spec.name);
  xs.write(`${frontend}/mac`, spec.mac);
}

/** argv and environment exactly as libxl (libxl_linux.c) or xend's udev rule runs the script; tap: the HVM emulated NIC's add/remove. */
export function hookInvocation(spec: VifSpec, command: 'online' | 'offline' | 'add' | 'remove', socketPath: string, netdev = ''): { args: string[]; env: Record<string, string> } {
  const xend = spec.toolstack === 'xend';
  const tap = command === 'add' || command === 'remove';
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    XENSTORED_PATH: socketPath,
    XENBUS_PATH: xend ? backendPath(spec) : `backend/vif/${spec.domid}/${spec.devid}`,
    vif: `vif${spec.domid}.${spec.devid}`,
  };
  if (tap) env.INTERFACE = `vif${spec.domid}.${spec.devid}-emu`;
  if (!xend) Object.assign(env, { script: '/etc/xen/scripts/vif-nat-dns', XENBUS_TYPE: 'vif', XENBUS_BASE_PATH: 'backend', netdev });
  return { args: xend ? [command] : [command, `type_if=${tap ? 'tap' : 'vif'}`], env };
}
