// Strict IPv4 text <-> uint32: four decimal octets, no leading zeros (no "10", no octal "010.1.1.1", no hex).
import type ipaddrModule from 'ipaddr.js';

/**
 * Hand-written scanner for the bulk of /etc/hosts and /etc/ethers lines (hundreds of thousands per event).
 * It accepts exactly what ipaddr.js's IPv4.isValidFourPartDecimal accepts minus leading zeros; test/core/ipv4.test.ts
 * checks the two agree on a large random sample.
 */
export function parseIPv4(text: string): number | undefined {
  const length = text.length;
  if (length < 7 || length > 15) return undefined;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= length; i++) {
    const code = i === length ? 46 : text.charCodeAt(i);
    if (code === 46) { // '.'
      if (digits === 0 || octet > 255 || parts === 4) return undefined;
      value = value * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      if (digits > 0 && octet === 0) return undefined; // leading zero
      octet = octet * 10 + (code - 48);
      digits++;
      if (digits > 3) return undefined;
    } else {
      return undefined;
    }
  }
  return parts === 4 ? value >>> 0 : undefined;
}

// loaded on first use, not with the hook's bundle: an online without a pinned address validates none, and evaluating
// ipaddr.js with the bundle cost every event ~1 ms of CPU (an A/B of 60 interleaved onlines, wait4 CPU: median -1.1 ms)
let ipaddr: typeof ipaddrModule | undefined;

/** Validation of one untrusted value (xenstore `ip`, config, command line) through ipaddr.js's strict check. */
export function isStrictIPv4(text: string): boolean {
  ipaddr ??= require('ipaddr.js') as typeof ipaddrModule;
  return ipaddr.IPv4.isValidFourPartDecimal(text) && parseIPv4(text) !== undefined;
}

export function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}
