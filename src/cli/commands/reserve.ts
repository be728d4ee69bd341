// reserve: give a guest that does not exist yet its addresses (hosts lines, under the hooks' lock, exactly as the hook allocates) and the MACs to pin.
import { parseArgs } from 'node:util';
import { allocate, type Allocation } from '../../core/allocation';
import { appendHostsLines, parseHosts, renderHosts } from '../../core/hosts-file';
import { checkPoolAgreement, dropReleased, mergePoolNames } from '../../core/pool-materialise';
import { createAddressStore } from '../../pool/create-address-store';
import { poolFields, type Reserved } from '../../pool/address-store';
import { parseEthers } from '../../core/ethers-file';
import { ipToMac, normalizePrefix, XEN_OUI } from '../../core/mac-encoding';
import { MAX_INTERFACE } from '../../core/scheme';
import { VifError } from '../../core/errors';
import type { CliContext, Command } from '../context';

/**
 * Allocations of interfaces `ys` of `name` in one locked update of /etc/hosts; names already recorded keep their address.
 * In a pool, exactly as a hook: the registry registers (or finds) each address first, the files get the pool's names,
 * and the files' allocation must agree with the registry (a new name while the registry is away gets none).
 */
export async function reserveAddresses(ctx: CliContext, name: string, ys: readonly number[]): Promise<{ allocations: Allocation[]; added: string[] }> {
  const store = ctx.config.pool ? createAddressStore(ctx.config, ctx.exec) : undefined;
  const reserved: Reserved[] = [];
  for (const y of store ? ys : []) reserved.push(await store!.reserve({ domainName: name, y }, () => ctx.files.read()));
  return ctx.files.transact((snapshot) => {
    const released = dropReleased(parseHosts(snapshot.hosts), reserved.flatMap((r) => (r.kind === 'pool' ? r.released ?? [] : [])), parseEthers(snapshot.ethers));
    const merged = mergePoolNames(released.hosts, reserved.flatMap((r) => (r.kind === 'pool' ? r.names : [])));
    let hosts = merged.hosts;
    const ethers = parseEthers(snapshot.ethers);
    const allocations: Allocation[] = [];
    const added: string[] = [...merged.added];
    for (const [i, y] of ys.entries()) {
      const allocation = allocate(ctx.config.scheme, hosts, ethers, { domainName: name, y });
      if (reserved[i]) checkPoolAgreement(poolFields(reserved[i]!), { allocation, addedHostsLines: allocation.newHostsLines });
      if (allocation.newHostsLines.length > 0) hosts = appendHostsLines(hosts, allocation.newHostsLines);
      added.push(...allocation.newHostsLines);
      allocations.push(allocation);
    }
    return { update: { hosts: added.length + released.removed.length > 0 ? renderHosts(hosts) : undefined }, result: { allocations, added } };
  });
}

interface ReservedInterface {
  readonly interface: number;
  readonly devid: number;
  readonly hostname: string;
  readonly address: string;
  readonly prefix: number;
  readonly gateway: string;
  readonly mac: string;
}

function render(rows: readonly ReservedInterface[]): string {
  const head = ['IF', 'HOSTNAME', 'ADDRESS', 'GATEWAY', 'MAC'];
  const body = rows.map((r) => [String(r.interface), r.hostname, `${r.address}/${r.prefix}`, r.gateway, r.mac]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const table = [head, ...body].map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  return [...table, `vif = [ ${rows.map((r) => `'mac=${r.mac},script=vif-nat-dns'`).join(', ')} ]`].join('\n');
}

export const reserve: Command = {
  name: 'reserve',
  summary: 'allocate a guest\'s addresses before it exists and print the MACs to pin',
  usage: `reserve <domain-name> [--interfaces N] [--prefix 00:16:3e] [--json]

Records the addresses of interfaces 1..N of the guest that will be called <domain-name> in /etc/hosts, under the
hooks' lock and exactly as the hook would when the guest first starts (the lowest free machine number; a name keeps
its address for ever; in a pool, ETCD_ENDPOINTS set, the registry registers the number first, so every dom0 of the
pool gives the name the same address, and a new name is refused while the registry cannot be reached), and prints each interface's address, its gateway (dom0's side of the vif, also its DNS
server) and the MAC that encodes the address, for vif = [ 'mac=...' ] in the guest's config. A guest whose MAC was
pinned so can configure itself from the MAC alone (templates/guest/vif-nat-dns-guest). Running it again prints
the same; a name already recorded is only looked up. dnsmasq is reloaded when lines were added.
  --interfaces N   how many interfaces (1..${MAX_INTERFACE}; default 1)
  --prefix OUI     the MACs' first three octets (default ${XEN_OUI}, Xen's; a locally administered 02:00:00 keeps
                   them apart from the random 00:16:3e MACs xl makes up)
  --json           an array of {interface, devid, hostname, address, prefix, gateway, mac}
Exit: 0, 1 no machine number left or a name conflict, 2 usage.`,
  async run(args, context) {
    const { values, positionals } = parseArgs({ args, options: { interfaces: { type: 'string' }, prefix: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new VifError('USAGE', 'expected exactly one domain name', 'see reserve --help', {});
    const count = Number(values.interfaces ?? 1);
    if (!Number.isInteger(count) || count < 1 || count > MAX_INTERFACE || !/^[0-9]+$/.test(values.interfaces ?? '1')) {
      throw new VifError('USAGE', `--interfaces ${JSON.stringify(values.interfaces)} is not a number in 1..${MAX_INTERFACE}`, 'see reserve --help', {});
    }
    const prefix = normalizePrefix(values.prefix ?? XEN_OUI);
    const ctx = context();
    const { allocations, added } = await reserveAddresses(ctx, positionals[0]!, Array.from({ length: count }, (_, i) => i + 1));
    const rows = allocations.map((a) => ({
      interface: a.y, devid: a.y - 1, hostname: a.hostname, address: a.vmIp, prefix: ctx.config.scheme.prefixLength, gateway: a.dom0Ip, mac: ipToMac(a.vmIp, prefix),
    }));
    ctx.out(values.json ? JSON.stringify(rows, null, 2) : render(rows));
    if (added.length > 0) {
      const reload = await ctx.dnsmasq.reload();
      if ('warning' in reload) ctx.err(reload.warning);
    }
    return 0;
  },
};
