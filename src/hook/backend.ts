// What the hook learns from xenstore: only backend nodes and the toolstack-written domain name, validated; never guest-writable nodes.
import { VifError } from '../core/errors';
import { isStrictIPv4 } from '../core/ipv4';
import type { XenStore } from '../edges/xenstore';

export interface BackendInfo {
  readonly frontendId: number;
  readonly handle: number;
  readonly y: number; // handle + 1
  readonly macText?: string; // raw, validated by the caller (offline tolerates its absence)
  readonly pinnedIp?: string;
  readonly vifname?: string;
  readonly domainName?: string;
}

const MAX_DOMID = 0x7fef; // DOMID_FIRST_RESERVED - 1
const MAX_VALUE = 1024;

function integerNode(path: string, value: string | undefined, max: number): number {
  if (value === undefined) {
    throw new VifError('BAD_XENSTORE_VALUE', `xenstore node ${path} is missing`, 'is XENBUS_PATH the vif backend directory (backend/vif/<domid>/<devid>)?', { path });
  }
  if (!/^[0-9]{1,6}$/.test(value) || Number(value) > max) {
    throw new VifError('BAD_XENSTORE_VALUE', `xenstore node ${path} = ${JSON.stringify(value.slice(0, 40))} is not an integer in 0..${max}`, 'the toolstack wrote a bad value; recreate the vif', { path, value: value.slice(0, 40) });
  }
  return Number(value);
}

function pinnedIp(path: string, value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const addresses = value.trim().split(/[\s,]+/);
  if (addresses.length !== 1 || !isStrictIPv4(addresses[0]!)) {
    throw new VifError('IP_OUTSIDE_SCHEME', `the vif's ip node ${path} = ${JSON.stringify(value.slice(0, 80))} is not exactly one IPv4 address`,
      'set ip= to one address of the managed network, or drop it to get one allocated', { path, value: value.slice(0, 80) });
  }
  return addresses[0];
}

function bounded(path: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.length > MAX_VALUE) {
    throw new VifError('BAD_XENSTORE_VALUE', `xenstore node ${path} is ${value.length} bytes long`, 'the toolstack wrote a bad value; recreate the vif', { path, length: value.length });
  }
  return value;
}

const nameNode = (domid: number) => `/local/domain/${domid}/name`;

/**
 * One round trip: the backend's nodes, and the domain name (xl) of the domid the backend path names, which is the
 * frontend-id libxl writes; a second one only if frontend-id says otherwise.
 */
export async function readBackend(xs: XenStore, xenbusPath: string, options: { needName: boolean; strict: boolean }): Promise<BackendInfo> {
  const nodes = ['frontend-id', 'handle', 'mac', 'ip', 'vifname', 'domain'];
  const pathDomid = /\/backend\/vif\/(\d{1,5})\/\d+$/.exec(xenbusPath)?.[1];
  const guess = options.needName && pathDomid !== undefined ? Number(pathDomid) : undefined;
  const paths = nodes.map((node) => `${xenbusPath}/${node}`);
  const values = await xs.readMany(guess === undefined ? paths : [...paths, nameNode(guess)]);
  const [fid, handle, mac, ip, vifname, domain] = values.slice(0, nodes.length).map((value, i) => bounded(paths[i]!, value));
  const frontendId = integerNode(`${xenbusPath}/frontend-id`, fid, MAX_DOMID);
  const handleNumber = integerNode(`${xenbusPath}/handle`, handle, 126);
  let domainName = domain;
  if (domainName === undefined && options.needName) {
    domainName = bounded(nameNode(frontendId), frontendId === guess ? values[nodes.length] : await xs.read(nameNode(frontendId)));
  }
  if (options.strict && (domainName === undefined || domainName === '')) {
    throw new VifError('BAD_DOMAIN_NAME', `domain ${frontendId} has no name in xenstore (${xenbusPath}/domain or /local/domain/${frontendId}/name)`,
      'give the domain a name= in its config', { frontendId });
  }
  if (vifname !== undefined && vifname !== '' && !/^[A-Za-z0-9_.-]{1,15}$/.test(vifname)) {
    throw new VifError('BAD_XENSTORE_VALUE', `vifname ${JSON.stringify(vifname.slice(0, 40))} is not a usable device name`, 'use at most 15 characters of A-Z a-z 0-9 _ . -', { vifname: vifname.slice(0, 40) });
  }
  return {
    frontendId,
    handle: handleNumber,
    y: handleNumber + 1,
    macText: mac,
    pinnedIp: options.strict ? pinnedIp(`${xenbusPath}/ip`, ip) : undefined,
    vifname: vifname || undefined,
    domainName: domainName || undefined,
  };
}
