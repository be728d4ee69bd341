// Parses what the lab's guests print on their consoles ("VNDLAB <iface> <WHAT> key=value ...", see guest-init.sh) into boots.
export interface Lease { readonly ip: string; readonly mask: string; readonly router: string; readonly dns: string; readonly hostname: string; readonly tries: number }
/** What a DHCP-less guest configured from xenstore (vndlab_net=xenstore): its guest script's result and the NIC's state after. */
export interface StaticConfig {
  readonly exit: number; readonly source: string; readonly addr: string; readonly gateway: string; readonly nameserver: string;
  readonly search: string; readonly hostname: string; readonly xenbus: string; readonly scriptMd5: string;
}
/** The guest's attempts on a node dom0 published: xenstore-write's and xenstore-rm's exits, xenstored's raw reply, the value before and after. */
export interface TamperReport { readonly node: string; readonly before: string; readonly writeExit: number; readonly rmExit: number; readonly reply: string; readonly after: string }
export interface NicReport {
  lease?: Lease; static?: StaticConfig; tamper?: TamperReport; dns?: { name: string; server: string; answer: string };
  egress?: { target: string; seen: string }; gone?: boolean;
}
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
    const match = /^VNDLAB (\S+) (BOOT|LEASE|STATIC|XSWRITE|DNS|EGRESS|GONE|POWEROFF)\b(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, nic, what, rest] = match as unknown as [string, string, string, string];
    const f = fields(rest);
    if (what === 'BOOT') { boots.push({ id: f.id ?? '', nics: {}, poweroff: false }); continue; }
    const boot = boots.at(-1);
    if (!boot) continue;
    if (what === 'POWEROFF') { boot.poweroff = true; continue; }
    const report = (boot.nics[nic] ??= {});
    if (what === 'LEASE') report.lease = { ip: f.ip ?? '', mask: f.mask ?? '', router: f.router ?? '', dns: f.dns ?? '', hostname: f.hostname ?? '', tries: Number(f.tries ?? 0) };
    else if (what === 'STATIC') {
      report.static = {
        exit: Number(f.exit ?? -1), source: f.source ?? '', addr: f.addr ?? '', gateway: f.gateway ?? '', nameserver: f.nameserver ?? '',
        search: f.search ?? '', hostname: f.hostname ?? '', xenbus: f.xenbus ?? '', scriptMd5: f.script_md5 ?? '',
      };
    } else if (what === 'XSWRITE') {
      report.tamper = { node: f.node ?? '', before: f.before ?? '', writeExit: Number(f.write_exit ?? -1), rmExit: Number(f.rm_exit ?? -1), reply: f.reply ?? '', after: f.after ?? '' };
    } else if (what === 'DNS') report.dns = { name: f.name ?? '', server: f.server ?? '', answer: f.answer ?? '' };
    else if (what === 'EGRESS') report.egress = { target: f.target ?? '', seen: f.seen ?? '' };
    else report.gone = true;
  }
  return boots;
}
