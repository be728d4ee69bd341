// The vifs xenstore says are running: backend/vif/<domid>/<devid> under dom0, with online=1, their MAC and their domain's name.
import { parseGuestMac } from '../core/mac';
import { describeError } from '../core/errors';
import type { RunningVif } from '../core/plan-regen';
import type { XenStore } from '../edges/xenstore';

const BACKEND = '/local/domain/0/backend/vif';

export async function listRunningVifs(xs: XenStore): Promise<{ vifs: RunningVif[]; problems: string[] }> {
  const vifs: RunningVif[] = [];
  const problems: string[] = [];
  const domids = (await xs.directory(BACKEND)) ?? [];
  await Promise.all(domids.filter((d) => /^\d+$/.test(d)).map(async (domid) => {
    const devids = (await xs.directory(`${BACKEND}/${domid}`)) ?? [];
    await Promise.all(devids.filter((d) => /^\d+$/.test(d)).map(async (devid) => {
      const base = `${BACKEND}/${domid}/${devid}`;
      const [online, mac, ip, domain, name] = await xs.readMany([`${base}/online`, `${base}/mac`, `${base}/ip`, `${base}/domain`, `/local/domain/${domid}/name`]);
      if (online !== '1') return; // being torn down (libxl writes online=0 before offline)
      try {
        const domainName = domain ?? name;
        if (!domainName) throw new Error(`domain ${domid} has no name in xenstore`);
        vifs.push({ domid: Number(domid), devid: Number(devid), mac: parseGuestMac(mac), domainName, pinnedIp: ip?.trim() || undefined });
      } catch (err) {
        problems.push(`${base}: ${describeError(err)}`);
      }
    }));
  }));
  return { vifs, problems };
}
