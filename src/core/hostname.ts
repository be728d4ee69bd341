// Hostname derivation: a Xen domain name made into a legal DNS label, with "-<y>" for interfaces after the first.
import { VifError } from './errors';
import { MAX_INTERFACE } from './scheme';

export const MAX_LABEL = 63;

/** Lowercase, [^a-z0-9-] -> '-', no leading/trailing '-', at most `max` characters. */
export function sanitizeLabel(domainName: string, max = MAX_LABEL): string {
  let label = domainName.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  label = label.replace(/^-+/, '').slice(0, max).replace(/-+$/, '');
  return label;
}

export function interfaceSuffix(y: number): string {
  return y === 1 ? '' : `-${y}`;
}

/** The hostname of interface y (1..127) of the domain called domainName. */
export function hostnameFor(domainName: string, y: number): string {
  if (!Number.isInteger(y) || y < 1 || y > MAX_INTERFACE) {
    throw new VifError('BAD_XENSTORE_VALUE', `interface number ${y} is outside 1..${MAX_INTERFACE}`,
      'a vif handle must be 0..126', { y });
  }
  const suffix = interfaceSuffix(y);
  const base = sanitizeLabel(domainName, MAX_LABEL - suffix.length);
  if (base === '') {
    throw new VifError('BAD_DOMAIN_NAME', `domain name ${JSON.stringify(domainName.slice(0, 80))} has no letters or digits to make a hostname from`,
      'rename the domain (name= in its xl config) to something with a-z or 0-9, or pin ip= on the vif', { domainName });
  }
  return base + suffix;
}

/** True when `name` is exactly what hostnameFor can produce (a legal label, lowercase). */
export function isLegalHostname(name: string): boolean {
  return name.length > 0 && name.length <= MAX_LABEL && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name);
}
