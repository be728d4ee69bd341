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

/**
 * xl's migration names (tools/xl: xl_vmcontrol.c, xl_migrate.c): the receiving domain is created as `<name>--incoming`
 * (COLO and Remus too) and the sender is renamed `<name>--migratedaway` before it is destroyed. Both are the same guest.
 */
export const MIGRATION_SUFFIXES = { incoming: '--incoming', migratedaway: '--migratedaway' } as const;
export type MigrationRole = keyof typeof MIGRATION_SUFFIXES;

/** The guest's own name and, when xl is migrating it, which end of the hand-over this domain is. */
export function migrationName(domainName: string): { readonly base: string; readonly role?: MigrationRole } {
  for (const role of Object.keys(MIGRATION_SUFFIXES) as MigrationRole[]) {
    const suffix = MIGRATION_SUFFIXES[role];
    if (domainName.length > suffix.length && domainName.endsWith(suffix)) return { base: domainName.slice(0, -suffix.length), role };
  }
  return { base: domainName };
}

export function interfaceSuffix(y: number): string {
  return y === 1 ? '' : `-${y}`;
}

/** The hostname of interface y (1..127) of the domain called domainName; xl's migration suffixes are never part of it. */
export function hostnameFor(domainName: string, y: number): string {
  if (!Number.isInteger(y) || y < 1 || y > MAX_INTERFACE) {
    throw new VifError('BAD_XENSTORE_VALUE', `interface number ${y} is outside 1..${MAX_INTERFACE}`,
      'a vif handle must be 0..126', { y });
  }
  const suffix = interfaceSuffix(y);
  const base = sanitizeLabel(migrationName(domainName).base, MAX_LABEL - suffix.length);
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
