// Inside the lab's dom0: create and destroy guests with the real xl and collect what dom0 and the guest itself saw.
import type { Boot, Lease } from '../guest-reports';
import { boots, domid, ethersLines, hookLines, hookMs, hostsLine, reported, routeTo, waitForBoot, writeGuestConfig, xl, xsRead, type GuestSpec } from './xl';

export interface NicView {
  readonly nic: string;
  readonly mac: string;
  readonly hotplugStatus: string;
  readonly lease?: Lease;
  readonly dnsAnswer?: string;
  readonly egressSeen?: string;
  readonly hostsLine: string;
  readonly ethersLine: string;
  readonly route: string;
}

export interface Created {
  readonly name: string;
  readonly exit: number;
  readonly output: string; // xl create's output
  readonly hookLines: string[];
  readonly hookMs: number[];
  readonly domid?: number;
  readonly createMs: number; // xl create, start to return
  readonly reportMs: number; // xl create's start to the guest's last report
  readonly nics: NicView[];
  readonly boot?: Boot;
}

/** What dom0 holds for one NIC of a domain, with what the guest reported for it. */
export async function nicView(id: number, devid: number, boot: Boot | undefined): Promise<NicView> {
  const be = `/local/domain/0/backend/vif/${id}/${devid}`;
  const mac = (await xsRead(`${be}/mac`)) ?? '';
  const report = boot?.nics[`eth${devid}`];
  const ip = report?.lease?.ip ?? /^(\d+\.\d+\.\d+\.\d+)\//.exec(report?.static?.addr ?? '')?.[1] ?? '';
  return {
    nic: `eth${devid}`, mac, hotplugStatus: (await xsRead(`${be}/hotplug-status`)) ?? '',
    lease: report?.lease, dnsAnswer: report?.dns?.answer, egressSeen: report?.egress?.seen,
    hostsLine: ip ? hostsLine(ip) : '', ethersLine: ethersLines().find((l) => l.toLowerCase().startsWith(mac.toLowerCase())) ?? '',
    route: ip ? await routeTo(ip) : '',
  };
}

/** xl create, then wait for the guest's own reports on every NIC. */
export async function createGuest(spec: GuestSpec, timeoutMs = 150_000): Promise<Created> {
  const index = boots(spec.name).length;
  const started = Date.now();
  const create = await xl(['create', writeGuestConfig(spec)], 300_000);
  const createMs = Date.now() - started;
  const lines = hookLines(create.output);
  const base = { name: spec.name, exit: create.code, output: create.output, hookLines: lines, hookMs: lines.map(hookMs).filter((n): n is number => n !== undefined), createMs };
  if (create.code !== 0) return { ...base, reportMs: 0, nics: [] };
  const id = await domid(spec.name);
  const boot = await waitForBoot(spec.name, index, reported(spec.vifs.map((_, i) => `eth${i}`)), timeoutMs);
  const reportMs = Date.now() - started;
  const nics = id === undefined ? [] : await Promise.all(spec.vifs.map((_, devid) => nicView(id, devid, boot)));
  return { ...base, domid: id, reportMs, nics, boot };
}

export interface Destroyed {
  readonly exit: number;
  readonly output: string;
  readonly hookLines: string[];
  readonly ms: number;
}

export async function destroyGuest(name: string): Promise<Destroyed> {
  const started = Date.now();
  const result = await xl(['destroy', name]);
  return { exit: result.code, output: result.output, hookLines: hookLines(result.output), ms: Date.now() - started };
}
