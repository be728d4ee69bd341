// mac2ip, ip2mac and mac-for: the IP-in-MAC encoding, and a stable MAC to pin in a guest's config.
import { parseArgs } from 'node:util';
import { ipToMac, macToIp, XEN_OUI } from '../../core/mac-encoding';
import { recordedAddress } from '../../core/allocation';
import { parseHosts } from '../../core/hosts-file';
import { reserveAddresses } from './reserve';
import { createEtcdRegistry } from '../../pool/etcd-registry';
import { hostnameFor } from '../../core/hostname';
import { encode } from '../../core/scheme';
import { formatIPv4 } from '../../core/ipv4';
import { VifError } from '../../core/errors';
import type { Command } from '../context';

const one = (positionals: string[], what: string) => {
  if (positionals.length !== 1) throw new VifError('USAGE', `expected exactly one ${what}`, 'see --help', {});
  return positionals[0]!;
};

export const mac2ip: Command = {
  name: 'mac2ip',
  summary: 'the address encoded in a MAC (00:16:3e:01:01:03 -> 10.1.1.3)',
  usage: `mac2ip <mac> [--prefix 00:16:3e]
Exit: 0, 1 not an encoded MAC, 2 usage.`,
  async run(args, context) {
    const { values, positionals } = parseArgs({ args, options: { prefix: { type: 'string' } }, allowPositionals: true, strict: true });
    const first = context().config.scheme.network >>> 24;
    process.stdout.write(`${macToIp(one(positionals, 'MAC'), first, values.prefix ?? XEN_OUI)}\n`);
    return 0;
  },
};

export const ip2mac: Command = {
  name: 'ip2mac',
  summary: 'the MAC encoding an address (10.1.1.3 -> 00:16:3e:01:01:03)',
  usage: `ip2mac <ipv4> [--prefix 00:16:3e]
Exit: 0, 1 not an address, 2 usage.`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, options: { prefix: { type: 'string' } }, allowPositionals: true, strict: true });
    process.stdout.write(`${ipToMac(one(positionals, 'address'), values.prefix ?? XEN_OUI)}\n`);
    return 0;
  },
};

export const macFor: Command = {
  name: 'mac-for',
  summary: 'a stable MAC for a guest, derived from its address, to pin with mac= in its config',
  usage: `mac-for <domain-name> [--interface N] [--prefix 00:16:3e] [--allocate]

Prints the MAC that encodes the guest's address (its /etc/hosts entry), e.g. for vif = [ 'mac=<this>,script=vif-nat-dns' ].
--allocate reserves an address (the lowest free machine number, under the hooks' lock) for a name seen for the first
time; without it an unknown name is an error. In a pool the registry is asked too, and --allocate registers the name
there first, as reserve does. --prefix picks another OUI, e.g. a locally administered 02:00:00.
Exit: 0, 1 unknown name or no machine number left, 2 usage.`,
  async run(args, context) {
    const { values, positionals } = parseArgs({ args, options: { interface: { type: 'string' }, prefix: { type: 'string' }, allocate: { type: 'boolean' } }, allowPositionals: true, strict: true });
    const name = one(positionals, 'domain name');
    const y = Number(values.interface ?? 1);
    const ctx = context();
    const hostname = hostnameFor(name, y);
    const lookup = (hosts: string) => {
      const addr = recordedAddress(ctx.config.scheme, parseHosts(hosts), hostname);
      return addr ? formatIPv4(encode(ctx.config.scheme, addr)) : undefined;
    };
    let ip = lookup((await ctx.files.read()).hosts);
    // a pool name this dom0 has not materialised yet (the watcher appends it within a second)
    if (!ip && ctx.config.pool) ip = (await createEtcdRegistry(ctx.config.pool).snapshot()).names.get(hostname)?.ip;
    if (!ip && values.allocate) ip = (await reserveAddresses(ctx, name, [y])).allocations[0]!.vmIp;
    if (!ip) throw new VifError('NOT_FOUND', `${hostname} has no address yet`, `start the guest once, or pass --allocate to reserve one now`, { hostname });
    process.stdout.write(`${ipToMac(ip, values.prefix ?? XEN_OUI)}\n`);
    return 0;
  },
};
