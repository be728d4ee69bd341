// IP-in-MAC encoding some farms use so a guest can configure itself without DHCP: Xen's OUI 00:16:3e + the address's last three octets.
import { VifError } from './errors';
import { formatIPv4, parseIPv4 } from './ipv4';
import { normalizeMac } from './mac';

export const XEN_OUI = '00:16:3e';

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** 10.1.1.3 -> 00:16:3e:01:01:03 (or another three-octet prefix). */
export function ipToMac(ip: string, prefix = XEN_OUI): string {
  const value = parseIPv4(ip);
  if (value === undefined) throw new VifError('IP_OUTSIDE_SCHEME', `${JSON.stringify(ip)} is not an IPv4 address`, 'give four decimal octets, e.g. 10.1.1.3', { ip });
  const oui = normalizePrefix(prefix);
  return `${oui}:${hex((value >>> 16) & 255)}:${hex((value >>> 8) & 255)}:${hex(value & 255)}`;
}

/** 00:16:3e:01:01:03 -> 10.1.1.3; the first octet of the address comes from `network` (default 10). */
export function macToIp(mac: string, firstOctet = 10, prefix = XEN_OUI): string {
  const normal = normalizeMac(mac);
  const oui = normalizePrefix(prefix);
  if (!normal || !normal.startsWith(`${oui}:`)) {
    throw new VifError('BAD_MAC', `${JSON.stringify(mac)} is not a MAC in ${oui}:xx:xx:xx`, `only MACs made by ip2mac (prefix ${oui}) encode an address`, { mac });
  }
  const [, , , a, b, c] = normal.split(':').map((part) => parseInt(part, 16)) as [number, number, number, number, number, number];
  return formatIPv4(((firstOctet << 24) | (a << 16) | (b << 8) | c) >>> 0);
}

export function normalizePrefix(prefix: string): string {
  if (!/^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}$/.test(prefix)) {
    throw new VifError('USAGE', `MAC prefix ${JSON.stringify(prefix)} is not three hex octets`, 'e.g. 00:16:3e (Xen) or 02:00:00 (locally administered)', { prefix });
  }
  const lower = prefix.toLowerCase();
  if (parseInt(lower.slice(0, 2), 16) & 1) {
    throw new VifError('USAGE', `MAC prefix ${lower} is multicast`, 'the first octet must be even', { prefix });
  }
  return lower;
}
