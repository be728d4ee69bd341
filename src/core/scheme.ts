// The address scheme: <network>.<machine number>.<y>, y = 1..127 on the VM side, y|128 on dom0's side of the vif.
import { VifError } from './errors';
import { formatIPv4, parseIPv4 } from './ipv4';

export interface Scheme {
  readonly network: number; // base address, host bits zero
  readonly prefixLength: number; // 8..20: leaves 24-prefixLength bits of machine number
  readonly text: string; // e.g. "10.0.0.0/8"
}

export interface SchemeAddress {
  readonly machine: number;
  readonly y: number; // 1..127 (interface number, handle + 1)
  readonly side: 'vm' | 'dom0';
}

export const MIN_PREFIX = 8;
export const MAX_PREFIX = 20;
export const MAX_INTERFACE = 127;

export function parseScheme(cidr: string): Scheme {
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(cidr.trim());
  const base = match ? parseIPv4(match[1]!) : undefined;
  const prefixLength = match ? Number(match[2]) : NaN;
  if (base === undefined || !(prefixLength >= MIN_PREFIX && prefixLength <= MAX_PREFIX)) {
    throw new VifError('BAD_CONFIG', `managed network "${cidr}" is not an IPv4 network between /${MIN_PREFIX} and /${MAX_PREFIX}`,
      'set NETWORK to e.g. 10.0.0.0/8 or 10.198.0.0/16 in the config file', { network: cidr });
  }
  const mask = prefixMask(prefixLength);
  if ((base & ~mask) >>> 0 !== 0) {
    throw new VifError('BAD_CONFIG', `managed network "${cidr}" has host bits set`,
      `use ${formatIPv4((base & mask) >>> 0)}/${prefixLength}`, { network: cidr });
  }
  return { network: base, prefixLength, text: `${formatIPv4(base)}/${prefixLength}` };
}

function prefixMask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** Highest usable machine number; 0 is reserved. */
export function maxMachine(scheme: Scheme): number {
  return 2 ** (24 - scheme.prefixLength) - 1;
}

export function netmaskText(scheme: Scheme): string {
  return formatIPv4(prefixMask(scheme.prefixLength));
}

/** The dotted text every address of the network starts with: "10." for a /8, "10.198." for a /16, "172." for a /12. */
export function textPrefix(scheme: Scheme): string {
  const whole = Math.floor(scheme.prefixLength / 8);
  return formatIPv4(scheme.network).split('.').slice(0, whole).map((octet) => `${octet}.`).join('');
}

export function contains(scheme: Scheme, ip: number): boolean {
  return ((ip & prefixMask(scheme.prefixLength)) >>> 0) === scheme.network;
}

export function encode(scheme: Scheme, addr: SchemeAddress): number {
  if (!Number.isInteger(addr.machine) || addr.machine < 1 || addr.machine > maxMachine(scheme)) {
    throw new RangeError(`machine number ${addr.machine} outside 1..${maxMachine(scheme)}`);
  }
  if (!Number.isInteger(addr.y) || addr.y < 1 || addr.y > MAX_INTERFACE) {
    throw new RangeError(`interface number ${addr.y} outside 1..${MAX_INTERFACE}`);
  }
  const low = addr.side === 'dom0' ? addr.y | 128 : addr.y;
  return (scheme.network + addr.machine * 256 + low) >>> 0;
}

export function vmAddress(scheme: Scheme, machine: number, y: number): string {
  return formatIPv4(encode(scheme, { machine, y, side: 'vm' }));
}

export function dom0Address(scheme: Scheme, machine: number, y: number): string {
  return formatIPv4(encode(scheme, { machine, y, side: 'dom0' }));
}

/** Decode an address of the managed network; undefined for anything the scheme does not produce. */
export function decode(scheme: Scheme, ip: number | string): SchemeAddress | undefined {
  const value = typeof ip === 'string' ? parseIPv4(ip) : ip;
  const machine = value === undefined ? undefined : machineOf(scheme, value);
  if (machine === undefined) return undefined;
  const low = value! & 255;
  return { machine, y: low & 127, side: low & 128 ? 'dom0' : 'vm' };
}

/** The machine number of an address the scheme produces, undefined otherwise; allocation-free (run on every hosts line). */
export function machineOf(scheme: Scheme, ip: number): number | undefined {
  if (!contains(scheme, ip)) return undefined;
  const offset = (ip - scheme.network) >>> 0;
  const machine = Math.floor(offset / 256);
  return machine < 1 || (offset & 127) === 0 ? undefined : machine;
}
