// Attack probes for the firewall tests: listeners that log what reaches them, forged UDP from a guest, TCP connection attempts, rule counters.
import { join } from 'node:path';
import { daemon, type Daemon } from './processes';
import { REPO, type Namespace, type Sandbox } from './sandbox';

export interface Listener {
  /** Datagrams received so far, optionally only those from `source`. */
  udp(source?: string): number;
  tcp(): number;
  stop(): Promise<void>;
}

/** UDP on 0.0.0.0:udpPort and TCP on [::]:tcpPort (both IPv4 and IPv6) in a namespace; prints one line per datagram or connection. */
export async function startListener(ns: Namespace, ports: { udp: number; tcp?: number }): Promise<Listener> {
  const script = `const d=require("dgram").createSocket("udp4");d.on("message",(m,r)=>console.log("udp "+r.address));
d.bind(${ports.udp},"0.0.0.0",()=>{${ports.tcp ? `require("net").createServer((s)=>{console.log("tcp "+s.remoteAddress);s.on("error",()=>{});s.end("hello\\n")}).listen(${ports.tcp},"::",()=>console.log("listening"))` : 'console.log("listening")'}});`;
  const d: Daemon = daemon('nsenter', ['-t', String(ns.pid), '-n', '--', process.execPath, '-e', script]);
  await d.waitFor(/listening/);
  const lines = (kind: string) => d.output().split('\n').filter((l) => l.startsWith(`${kind} `)).map((l) => l.slice(kind.length + 1));
  return {
    udp: (source) => lines('udp').filter((s) => source === undefined || s === source).length,
    tcp: () => lines('tcp').length,
    stop: () => d.stop(),
  };
}

export interface Forged { readonly src: string; readonly dst: string; readonly sport?: number; readonly dport: number; readonly count: number; readonly dns?: boolean }

/** dom0's side of every vif in the sandbox (netback's MAC). */
const VIF_MAC = 'fe:ff:ff:ff:ff:ff';

/** Send datagrams with the given sources out of the guest's eth0, as Ethernet frames written by hand (what a hostile guest can do). */
export async function forge(box: Sandbox, ns: Namespace, packets: readonly Forged[]): Promise<number> {
  const input = packets.map((p) => `${p.src} ${p.dst} ${p.sport ?? 40000} ${p.dport} ${p.count}${p.dns ? ' dns' : ''}\n`).join('');
  const result = await box.inNet(ns, ['python3', join(REPO, 'test', 'harness', 'forge.py'), 'eth0', VIF_MAC], { input });
  const sent = /sent (\d+)/.exec(result.stdout);
  if (!sent) throw new Error(`forge.py failed: ${result.stderr}`);
  return Number(sent[1]);
}

/** Try TCP connections from `ns` (in parallel, each given up after `timeoutMs`); true where one opened. */
export async function tcpOpens(box: Sandbox, ns: Namespace, targets: ReadonlyArray<{ host: string; port: number }>, timeoutMs = 1000): Promise<boolean[]> {
  const script = `const t=${JSON.stringify(targets)};Promise.all(t.map(({host,port})=>new Promise((ok)=>{const s=require("net").connect({host,port,timeout:${timeoutMs}});
s.on("connect",()=>{s.destroy();ok(true)});s.on("timeout",()=>{s.destroy();ok(false)});s.on("error",()=>ok(false))}))).then((r)=>console.log(JSON.stringify(r)))`;
  const result = await box.inNet(ns, [process.execPath, '-e', script]);
  return JSON.parse(result.stdout.trim()) as boolean[];
}

/** One ICMP echo request from `ns` to `host` (a raw socket; the harness has no ping): true if the reply came within 2 s. */
export async function pings(box: Sandbox, ns: Namespace, host: string): Promise<boolean> {
  const script = `import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); s.settimeout(2)
body = struct.pack('!BBHHH', 8, 0, 0, 0x5eed, 1) + b'vif-nat-dns'
words = sum(struct.unpack('!%dH' % ((len(body) + 1) // 2), body + b'\\0' * (len(body) % 2)))
words = (words >> 16) + (words & 0xffff); words += words >> 16
s.sendto(body[:2] + struct.pack('!H', ~words & 0xffff) + body[4:], (sys.argv[1], 0))
try:
    while True:
        data, (src, _) = s.recvfrom(1500)
        if src == sys.argv[1] and data[20] == 0 and data[24:26] == b'\\x5e\\xed': print('reply'); break
except socket.timeout:
    print('none')`;
  return (await box.inNet(ns, ['python3', '-c', script, host])).stdout.includes('reply');
}

/** Polls `value` until it reaches `target` or `timeoutMs` passes (the machine may be busy); returns the last value. */
export async function settle(value: () => number | Promise<number>, target: number, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let current = await value();
  while (current < target && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    current = await value();
  }
  return current;
}

/** Packet counters of every rule of a table in dom0 ("CHAIN RULE" -> packets), from `<save> -c`. */
export async function ruleCounters(box: Sandbox, save: string, table: string): Promise<Map<string, number>> {
  const result = await box.inDom0([save, '-c', '-t', table]);
  const counters = new Map<string, number>();
  for (const match of result.stdout.matchAll(/^\[(\d+):\d+\] -A (\S+) (.*)$/gm)) counters.set(`${match[2]} ${match[3]}`, Number(match[1]));
  return counters;
}

/** Each device with an anti-spoofing chain in dom0, as "<device> <address it may send from>", sorted. */
export async function antispoofing(box: Sandbox, save = 'iptables-save'): Promise<string[]> {
  const raw = (await box.inDom0([save, '-t', 'raw'])).stdout;
  return [...raw.matchAll(/^-A VND-SRC-(\S+) -s (\S+)\/32 -j RETURN$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
}

/** A counter of dom0's network stack from /proc/net/netstat (e.g. TcpExt's IPReversePathFilter: packets dropped by rp_filter). */
export async function netstatCounter(box: Sandbox, group: string, name: string): Promise<number> {
  const rows = (await box.inDom0(['cat', '/proc/net/netstat'])).stdout.split('\n').filter((line) => line.startsWith(`${group}: `));
  const [names, values] = rows.map((row) => row.split(/\s+/).slice(1));
  const at = names?.indexOf(name) ?? -1;
  if (at < 0 || values?.[at] === undefined) throw new Error(`/proc/net/netstat has no ${group} ${name}`);
  return Number(values[at]);
}
