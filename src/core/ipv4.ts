// Strict IPv4 text <-> uint32 conversion (four-part decimal only: no "10", no octal "010.1.1.1").
import ipaddr from 'ipaddr.js';

export function isStrictIPv4(text: string): boolean {
  if (!/^[0-9.]{7,15}$/.test(text)) return false;
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return false;
  // isValidFourPartDecimal accepts leading zeros in some versions; refuse them (octal ambiguity).
  return text.split('.').every((part) => part === '0' || !part.startsWith('0'));
}

export function parseIPv4(text: string): number | undefined {
  if (!isStrictIPv4(text)) return undefined;
  const bytes = ipaddr.IPv4.parse(text).toByteArray();
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}
