// Parses what the lab's guests print on their consoles ("VNDLAB <iface> <WHAT> key=value ...", see guest-init.sh) into boots.
export interface Lease { readonly ip: string; readonly mask: string; readonly router: string; readonly dns: string; readonly hostname: string; readonly tries: number }
export interface NicReport { lease?: Lease; dns?: { name: string; server: string; answer: string }; egress?: { target: string; seen: string }; gone?: boolean }
export interface Boot { readonly id: string; readonly nics: Record<string, NicReport>; poweroff: boolean }

function fields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of text.trim().split(/\s+/)) {
    const eq = word.indexOf('=');
    if (eq > 0) out[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return out;
}

/** Every boot the console log shows, oldest first (a log accumulates across reboots, saves and re-creations of a name). */
export function parseGuestReports(log: string): Boot[] {
  const boots: Boot[] = [];
  for (const line of log.split(/\r?\n/)) {
    const match = /^VNDLAB (\S+) (BOOT|LEASE|DNS|EGRESS|GONE|POWEROFF)\b(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, nic, what, rest] = match as unknown as [string, string, string, string];
    const f = fields(rest);
    if (what === 'BOOT') { boots.push({ id: f.id ?? '', nics: {}, poweroff: false }); continue; }
    const boot = boots.at(-1);
    if (!boot) continue;
    if (what === 'POWEROFF') { boot.poweroff = true; continue; }
    const report = (boot.nics[nic] ??= {});
    if (what === 'LEASE') report.lease = { ip: f.ip ?? '', mask: f.mask ?? '', router: f.router ?? '', dns: f.dns ?? '', hostname: f.hostname ?? '', tries: Number(f.tries ?? 0) };
    else if (what === 'DNS') report.dns = { name: f.name ?? '', server: f.server ?? '', answer: f.answer ?? '' };
    else if (what === 'EGRESS') report.egress = { target: f.target ?? '', seen: f.seen ?? '' };
    else report.gone = true;
  }
  return boots;
}
