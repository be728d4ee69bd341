// The online (and tap add) event: queue the files change (applied in a batch, dnsmasq reloaded), configure routed NAT, publish the guest's config, report connected; roll back on failure.
import { changesFiles, liveHolder, type FileChange } from '../core/plan-online';
import { migrationName } from '../core/hostname';
import { onlineRouteMetric } from '../core/handover';
import { parseIPv4 } from '../core/ipv4';
import { parseGuestMac } from '../core/mac';
import { bootStepCovers, markerAllowsKernel, markerCoversFirewall, onlineAntispoofMode, RP_FILTER_OFF, RP_FILTER_STRICT } from '../core/antispoof';
import { vifChain } from '../core/firewall-rules';
import { describeError, isVifError, VifError } from '../core/errors';
import { readBackend } from './backend';
import { underLock, type HookDeps } from './deps';
import type { VifAddressing } from '../edges/network';
import { guestConfigFor } from '../core/guest-config';
import { publishGuestConfig } from './guest-publish';
import { poolFields } from '../pool/address-store';

export interface UpEvent {
  readonly typeIf: 'vif' | 'tap';
  readonly xenbusPath: string;
  readonly device: string;
  readonly netdev: string;
}

export interface OnlineOutcome {
  readonly hostname: string;
  readonly vmIp: string;
  readonly dom0Ip: string;
  readonly device: string;
  readonly mac: string;
  readonly notes: readonly string[];
}

type Undo = () => Promise<unknown>;

export async function online(event: UpEvent, deps: HookDeps): Promise<OnlineOutcome> {
  const { config, net, files, log } = deps;
  const xs = await deps.openXenStore();
  const undo: Undo[] = [];
  try {
    const info = await readBackend(xs, event.xenbusPath, { needName: true, strict: true });
    deps.mark('xenstore');
    const mac = parseGuestMac(info.macText);
    const device = await chooseDevice(event, info.vifname, deps, undo);
    const request = { domainName: info.domainName!, y: info.y, mac, pinnedIp: info.pinnedIp };
    // a pool: the registry holds (or now registers) the name's address; the files' plan must agree with it
    const reserved = await deps.addresses.reserve(request, () => files.read());
    if (reserved.kind !== 'files') deps.mark('registry');
    const notes = { info: [] as string[], warn: [] as string[] };

    // queued; applied with every other queued request in one write of the files (by us, if we get the lock first)
    const { result: applied, reloadWarning } = await deps.queue.submit({ kind: 'online', device, ...request, ...poolFields(reserved) }, deps.queueWaitMs);
    undo.push(() => revertFiles(applied.change, deps));
    deps.mark('files');
    notes.warn.push(...applied.poolConflicts ?? []);

    const { vmIp, dom0Ip, hostname } = applied.allocation;
    // xl's migration receiver (<name>--incoming) comes up while the sender's vif still carries the guest: route behind it
    const role = migrationName(info.domainName!).role;
    if (reserved.kind === 'degraded') notes.warn.push(`degraded: ${hostname} started from this dom0's files; its binding is registered when the registry answers again (${reserved.error.message})`);
    else if (event.typeIf === 'vif') await bindInStore(deps, hostname, vmIp, mac, role === 'incoming', notes, undo);
    const liveness = role === 'incoming' ? await net.liveness(device) : undefined;
    const otherHolder = liveness && liveHolder(config.scheme, liveness, parseIPv4(vmIp)!);
    const metric = onlineRouteMetric({ typeIf: event.typeIf, tapRouteMetric: config.tapRouteMetric, role, otherHolder });
    const vif: VifAddressing = { device, vmIp, dom0Ip, metric, group: config.firewall.group };
    const repeated = await net.isConfigured(device);
    if (!repeated) undo.push(() => net.down(vif));
    const uplink = event.netdev || config.netdev || (await net.defaultRouteDevice());
    // what the boot step (network-nat-dns start) put in place, hooks do not check per guest (doctor says if it was undone).
    // Read before either step starts: a step that failed while this was read would be a rejection nobody handled (the hook
    // died without its rollback; seen once commands ran synchronously)
    const marker = await net.bootMarker();
    const masqueradeToCheck = uplink && !bootStepCovers(marker, config.scheme.text, uplink);
    const deviceRpFilter = repeated ? (await net.rpFilter(device))?.trim() : undefined;
    const mode = onlineAntispoofMode({
      allowed: config.kernelAntispoof, typeIf: event.typeIf, repeated, deviceRpFilter, behindOtherVif: role === 'incoming' && otherHolder !== undefined,
      allRpFilter: await net.rpFilter('all'), firewallInPlace: markerCoversFirewall(marker, config.firewall) && markerAllowsKernel(marker),
    });
    // anti-spoofing is in place before the device joins the guests' group; both are independent of the shared MASQUERADE check
    const antispoof = mode === 'kernel'
      ? (deviceRpFilter === RP_FILTER_STRICT ? Promise.resolve() : net.setRpFilter(device, RP_FILTER_STRICT))
      : deps.firewall.addVif({ device, vmIp }, underLock(files)).then(async (rules) => {
        undo.push(rules.undo);
        // the chain first, then the kernel's check off: a vif the kernel checked is never left unchecked, and gets it back if this online fails
        if (deviceRpFilter === RP_FILTER_STRICT) undo.push(() => net.setRpFilter(device, RP_FILTER_STRICT));
        await net.setRpFilter(device, RP_FILTER_OFF);
      });
    const [, masquerade] = await Promise.all([
      antispoof.then(() => { deps.mark('firewall'); return net.up(vif); }),
      masqueradeToCheck ? net.ensureMasquerade(config.scheme.text, uplink, underLock(files)) : Promise.resolve(undefined),
    ]);
    log.debug(`${device}: anti-spoofing by ${mode === 'kernel' ? 'the kernel\'s reverse-path filter (rp_filter=1)' : `its chain ${vifChain(device)}`}`);
    if (masquerade === 'added') notes.info.push(`MASQUERADE ${config.scheme.text} -> ${uplink} added`);
    if (role === 'incoming' && otherHolder) notes.info.push(`migration: ${vmIp} stays routed through ${otherHolder} until its offline hands it to ${device}`);
    if (!uplink) notes.warn.push('no uplink (netdev empty, no NETDEV, no default route): MASQUERADE not set');

    if (reserved.kind === 'pool') notes.warn.push(...await deps.addresses.syncRoutes());
    deps.mark('network');
    if (reloadWarning) notes.warn.push(reloadWarning); // the batch that applied our request reloaded dnsmasq
    if (config.dhcpRelease) await releaseOldLeases(deps, device, vmIp, mac, applied.displacedMacs, notes);

    deps.mark('dnsmasq');
    if (event.typeIf === 'vif') {
      // hotplug-status in the same transaction: a guest that waits for its link finds its address waiting for it (and the
      // hook saves a round trip); nothing can fail after it, so no undo
      await publishGuestConfig(xs, guestConfigFor(info.frontendId, info.handle, applied.allocation, config.scheme.prefixLength, config.dnsDomain, mac),
        [{ op: 'write', path: `${event.xenbusPath}/hotplug-status`, value: 'connected' }]);
    }
    deps.mark('report');
    notes.info.forEach((note) => log.info(note));
    notes.warn.forEach((note) => log.warn(note));
    return { hostname, vmIp, dom0Ip, device, mac, notes: [...notes.info, ...notes.warn] };
  } catch (err) {
    for (const step of undo.reverse()) {
      await step().catch((undoErr) => log.error(`rollback step failed: ${describeError(undoErr)}`));
    }
    if (event.typeIf === 'vif') await reportError(xs, event.xenbusPath, describeError(err), log);
    throw err;
  } finally {
    xs.close();
  }
}

/** Record that the guest runs here; a registry that stopped answering since the reservation leaves it to the watcher's reconcile. */
async function bindInStore(deps: HookDeps, hostname: string, vmIp: string, mac: string, incoming: boolean, notes: { info: string[]; warn: string[] }, undo: Undo[]): Promise<void> {
  // undone even if bind throws: a transaction etcd applied but whose answer was lost must not outlive a failed online
  // (unbind deletes only a binding of this host's, so a refused or never-applied bind leaves the other host's alone)
  undo.push(() => deps.addresses.unbind(hostname, vmIp));
  try {
    notes.info.push(...await deps.addresses.bind(hostname, vmIp, mac, incoming));
  } catch (err) {
    if (!isVifError(err) || err.code !== 'POOL_UNAVAILABLE') throw err;
    notes.warn.push(`degraded: ${hostname}'s binding is registered when the registry answers again (${err.message})`);
  }
}

/** A restarted guest with a new MAC: dnsmasq would refuse its address while another MAC's lease holds it, so release that lease. */
async function releaseOldLeases(deps: HookDeps, device: string, vmIp: string, mac: string, displaced: readonly string[], notes: { info: string[]; warn: string[] }): Promise<void> {
  const holders = new Set([...displaced, ...(await deps.dnsmasq.leaseHolders(vmIp))]);
  holders.delete(mac);
  for (const holder of holders) {
    try {
      await deps.dnsmasq.release(device, vmIp, holder);
      notes.info.push(`released ${holder}'s lease on ${vmIp}`);
    } catch (err) {
      notes.warn.push(`could not release ${holder}'s lease on ${vmIp}: ${describeError(err)}`);
    }
  }
}

/** The device to configure: the vif itself, or its `vifname`, renamed now unless that name belongs to another device. */
async function chooseDevice(event: UpEvent, vifname: string | undefined, deps: HookDeps, undo: Undo[]): Promise<string> {
  if (event.typeIf !== 'vif' || !vifname || vifname === event.device) return event.device;
  const vifExists = deps.net.deviceExists(event.device);
  const nameExists = deps.net.deviceExists(vifname);
  if (!vifExists && nameExists) return vifname; // renamed by an earlier online
  if (nameExists) {
    throw new VifError('VIFNAME_TAKEN', `cannot rename ${event.device} to ${vifname}: a device of that name already exists`,
      `pick another vifname= for this vif, or remove the other device (ip link show ${vifname})`, { device: event.device, vifname });
  }
  await deps.net.rename(event.device, vifname);
  undo.push(() => deps.net.rename(vifname, event.device));
  return vifname;
}

async function revertFiles(change: FileChange, deps: HookDeps): Promise<void> {
  if (!changesFiles(change).hosts && !changesFiles(change).ethers) return;
  // queued like any change: undone against the files as they are then, so what other guests did meanwhile stays
  await deps.queue.submit({ kind: 'revert', ...change }, deps.queueWaitMs);
}

async function reportError(xs: { write(path: string, value: string): Promise<void> }, xenbusPath: string, message: string, log: HookDeps['log']): Promise<void> {
  try {
    await xs.write(`${xenbusPath}/hotplug-error`, message.slice(0, 2000));
    await xs.write(`${xenbusPath}/hotplug-status`, 'error');
  } catch (err) {
    log.error(`could not report the failure to xenstore: ${describeError(err)}`);
  }
}
