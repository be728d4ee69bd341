// The offline (and tap remove) event: idempotent, tolerant of anything already gone, never blocks teardown; /etc/hosts is never touched; the guest's published config goes.
import { planOffline } from '../core/plan-offline';
import { parseHosts } from '../core/hosts-file';
import { parseEthers } from '../core/ethers-file';
import type { OfflineRequestData } from '../core/batch-request';
import { normalizeMac } from '../core/mac';
import { decode } from '../core/scheme';
import { describeError } from '../core/errors';
import { routeSuccessor } from '../core/handover';
import { markerAllowsKernel, RP_FILTER_STRICT } from '../core/antispoof';
import { readBackend, type BackendInfo } from './backend';
import type { HookDeps } from './deps';
import type { UpEvent } from './online';
import type { XenStore } from '../edges/xenstore';
import { unpublishGuestConfig } from './guest-publish';

export interface OfflineOutcome {
  readonly device: string;
  readonly vmIp?: string;
  readonly removedEthersLines: readonly string[];
  readonly problems: readonly string[];
}

export async function offline(event: UpEvent, deps: HookDeps): Promise<OfflineOutcome> {
  const { config, net, files, log } = deps;
  const problems: string[] = [];
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      problems.push(`${what}: ${describeError(err)}`);
      return undefined;
    }
  };

  const info = await attempt('reading xenstore', () => withXenStore(deps, (xs) => readBackend(xs, event.xenbusPath, { needName: true, strict: false })))
    ?? ({ y: vifIdsFromPath(event.xenbusPath).devid + 1 } as Partial<BackendInfo>);

  const device = [event.device, info.vifname].find((name) => name && net.deviceExists(name)) ?? event.device;
  const present = net.deviceExists(device);
  // rp_filter=1 on the device: online left its sources to the kernel and gave it no chain (core/antispoof.ts); the value is
  // ours only where the boot step found nothing else that sets it
  const kernelFiltered = present && config.kernelAntispoof && markerAllowsKernel(await net.bootMarker()) && (await net.rpFilter(device)) === RP_FILTER_STRICT;
  const liveness = (await attempt('listing live vifs', () => net.liveness(device))) ?? { ownDevice: device, devicesByAddress: new Map() };
  const dom0Ips = [...liveness.devicesByAddress].filter(([, holders]) => holders.includes(device)).map(([ip]) => ip);

  const request: OfflineRequestData = {
    kind: 'offline', device, domainName: info.domainName, y: info.y ?? 1, mac: info.macText ? normalizeMac(info.macText) : undefined,
    dom0IpsOnDevice: dom0Ips,
    // only the managed dom0-side addresses matter (whether another running vif holds our address)
    liveAddresses: [...liveness.devicesByAddress].filter(([ip]) => decode(config.scheme, ip)?.side === 'dom0'),
  };
  // the emulated NIC (tap) shares the PV vif's MAC and address: its removal leaves /etc/ethers to the vif's offline
  const plan = event.typeIf === 'tap'
    ? await attempt('reading /etc/hosts', async () => {
      const snapshot = await files.read();
      return { ...planOffline(config.scheme, parseHosts(snapshot.hosts), parseEthers(snapshot.ethers), request, liveness), removedEthersLines: [] };
    })
    : await attempt('updating /etc/ethers', async () => {
      const { result, reloadWarning } = await deps.queue.submit(request, deps.queueWaitMs);
      if (reloadWarning) log.warn(reloadWarning); // the batch that applied our request reloaded dnsmasq
      return result;
    });

  // also when the files step failed (or the device never had a managed address): its chain goes below all the same, so
  // the device must not stay up in the guests' group, where the forwarding chain trusts it
  if (present) {
    const addressing = plan?.vmIp && plan.dom0Ip
      ? { vmIp: plan.vmIp, dom0Ip: plan.dom0Ip, metric: event.typeIf === 'tap' ? config.tapRouteMetric : undefined }
      : undefined;
    await attempt(`taking ${device} down${addressing ? ' and removing its route and address' : ''}`, () =>
      net.down({ device, group: config.firewall.group, ...addressing }));
  }
  // after the device left the guests' group; only this device's chain goes (a migration's other vif keeps its own),
  // beside the steps below
  const chained = [...new Set([device, event.device, info.vifname ?? device])].filter((name) => !(kernelFiltered && name === device));
  const rulesRemoved = Promise.all(chained.map((name) => attempt(`removing ${name}'s anti-spoofing rules`, () => deps.firewall.removeVif(name))));
  // the other end of a migration hand-over (the receiver, or the sender after a failed migration) keeps the guest reachable
  const successor = routeSuccessor(event.typeIf, plan?.otherHolder);
  if (successor && plan?.vmIp && plan.dom0Ip) {
    const handed = await attempt(`handing ${plan.vmIp}'s route to ${successor}`, () => net.takeOverRoute({ device: successor, vmIp: plan.vmIp!, dom0Ip: plan.dom0Ip! }).then(() => true));
    if (handed) log.info(`migration: ${plan.vmIp} handed over to ${successor}; its /etc/ethers binding stays`);
  }
  if (event.typeIf === 'vif' && plan && !successor && plan.keptForLiveVif.length === 0) {
    // after the ethers line is gone, so a reconcile in between never re-registers it; never a migrated guest's binding on its new host
    const notes = await attempt('updating the pool registry (left to the pool watcher\'s next pass)', async () => [
      ...await deps.addresses.unbind(plan.hostname, plan.vmIp), ...await deps.addresses.syncRoutes()]);
    for (const note of notes ?? []) log.info(note);
  }
  const ids = vifIdsFromPath(event.xenbusPath);
  const domid = info.frontendId ?? ids.domid;
  if (event.typeIf === 'vif' && domid !== undefined) {
    await attempt('removing the guest\'s published configuration', () => withXenStore(deps, (xs) => unpublishGuestConfig(xs, domid, info.handle ?? ids.devid)));
  }
  await rulesRemoved;
  if (!successor) for (const line of plan?.keptForLiveVif ?? []) log.warn(`kept "${line}" in /etc/ethers: another running vif holds that address`);
  for (const problem of problems) log.warn(problem);
  return { device, vmIp: plan?.vmIp, removedEthersLines: plan?.removedEthersLines ?? [], problems };
}

async function withXenStore<T>(deps: HookDeps, fn: (xs: XenStore) => Promise<T>): Promise<T> {
  const xs = await deps.openXenStore();
  try {
    return await fn(xs);
  } finally {
    xs.close();
  }
}

/** backend/vif/<domid>/<devid>: what the path says when the backend's own nodes are already gone. */
function vifIdsFromPath(xenbusPath: string): { domid?: number; devid: number } {
  const match = /\/(\d+)\/(\d+)$/.exec(xenbusPath);
  const devid = Number(match?.[2] ?? 0);
  return { domid: match ? Number(match[1]) : undefined, devid: devid <= 126 ? devid : 0 };
}
