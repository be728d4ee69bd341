// The firewall's rule sets in iptables-save's own spelling: per-vif anti-spoofing (raw) and the shared guest chains (filter).
import { VifError } from './errors';
import { decode, encode, type Scheme } from './scheme';
import { formatIPv4, parseIPv4 } from './ipv4';

/**
 * raw PREROUTING -> ANTISPOOF: first one `-i <dev> -g VND-SRC-<dev>` per vif with a chain of its own (a goto: what its
 * chain lets through returns straight to PREROUTING), then the rules for every other guest vif (antispoofTail).
 */
export const ANTISPOOF = 'VND-ANTISPOOF';
/** filter FORWARD -> guests' forwarding, ahead of the host's own rules and policy. */
export const FORWARD = 'VND-FORWARD';
/** filter INPUT -> what guests may reach on dom0 itself. */
export const INPUT = 'VND-INPUT';
export const VIF_CHAIN_PREFIX = 'VND-SRC-';

export type Table = 'raw' | 'filter';

export interface Service {
  readonly protocol: 'tcp' | 'udp';
  readonly ports: string; // "22" or "6000:6010", as iptables-save writes it
}

export interface FirewallPolicy {
  /** Device group of managed vifs (`ip link set <vif> group N`): how the filter chains tell guests' packets apart. */
  readonly group: number;
  readonly isolate: boolean;
  readonly dom0Services: readonly Service[];
}

/** A vif and the one source address it may use. */
export interface VifBinding {
  readonly device: string;
  readonly vmIp: string;
}

export interface SharedChain {
  readonly table: Table;
  readonly name: string;
  readonly builtin: string; // jumped to from the top of this built-in chain
  readonly rules: readonly string[];
  /** ANTISPOOF: the vifs' dispatch rules come first (inserted at the top), then `rules`. */
  readonly dispatched?: boolean;
}

/** Tables -> chains -> rules (each rule as iptables-save prints it after `-A <chain> `). */
export type RuleState = ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;

const DEVICE = /^[A-Za-z0-9_.-]{1,15}$/;

export function vifChain(device: string): string {
  if (!DEVICE.test(device)) {
    throw new VifError('NETWORK', `device name ${JSON.stringify(device.slice(0, 40))} cannot name a firewall chain`, 'use at most 15 characters of A-Z a-z 0-9 _ . -', { device });
  }
  return `${VIF_CHAIN_PREFIX}${device}`;
}

/** The rule in ANTISPOOF that sends a vif's packets to its own chain, and past the tail: a vif with a chain is checked by it alone. */
export const dispatchRule = (device: string): string => `-i ${device} -g ${vifChain(device)}`;
/** Versions before the tail dispatched with a jump: what the chain let through went on through ANTISPOOF. */
export const legacyDispatchRule = (device: string): string => `-i ${device} -j ${vifChain(device)}`;
const DISPATCH = new RegExp(`^-i (\\S+) -([gj]) ${VIF_CHAIN_PREFIX}(\\S+)$`);

/** A dispatch rule's device and spelling ('goto' now, 'jump' from an older version); undefined for any other rule. */
export function parseDispatch(rule: string): { device: string; legacy: boolean } | undefined {
  const match = DISPATCH.exec(rule);
  return match && match[1] === match[3] ? { device: match[1]!, legacy: match[2] === 'j' } : undefined;
}

/** ANTISPOOF's dispatch rules all come before its own (the tail): a vif's chain decides before the tail could. */
export function dispatchFirst(rules: readonly string[]): boolean {
  const firstOwn = rules.findIndex((rule) => parseDispatch(rule) === undefined);
  return firstOwn === -1 || rules.slice(firstOwn).every((rule) => parseDispatch(rule) === undefined);
}

/** A chain's own rules: for ANTISPOOF, what follows (or sits among) the vifs' dispatch rules. */
export const ownRules = (chain: SharedChain, rules: readonly string[]): readonly string[] =>
  chain.dispatched ? rules.filter((rule) => parseDispatch(rule) === undefined) : rules;
export const jumpRule = (chain: string): string => `-j ${chain}`;

/** A vif may send from its guest's address, and DHCP from 0.0.0.0:68 to :67; everything else it sends is dropped before routing. */
export function vifRules(vmIp: string): string[] {
  return [`-s ${vmIp}/32 -j RETURN`, '-s 0.0.0.0/32 -p udp -m udp --sport 68 --dport 67 -j RETURN', '-j DROP'];
}

const groupText = (group: number) => `0x${group.toString(16)}`;

/**
 * Every guest vif without a chain of its own (one the kernel's reverse-path filter is left to): DHCP from 0.0.0.0, no
 * other zero source, and no source whose route does not leave through the vif it came in on (`-m rpfilter`, strict).
 * Here in raw PREROUTING the check comes before conntrack sees the packet and before UDP early demux, which hands a
 * datagram for a connected socket of dom0's the route cached on that socket and so skips the kernel's own rp_filter.
 */
export function antispoofTail(group: number): string[] {
  const guests = `-m devgroup --src-group ${groupText(group)}`;
  return [
    `-s 0.0.0.0/32 -p udp -m udp --sport 68 --dport 67 ${guests} -j RETURN`,
    `-s 0.0.0.0/32 ${guests} -j DROP`,
    `${guests} -m rpfilter --invert -j DROP`,
  ];
}

export function sharedChains(policy: FirewallPolicy): SharedChain[] {
  const g = groupText(policy.group);
  const services = policy.dom0Services.map((s) => `-p ${s.protocol} -m ${s.protocol} --dport ${s.ports} -j ACCEPT`);
  return [
    { table: 'raw', name: ANTISPOOF, builtin: 'PREROUTING', dispatched: true, rules: antispoofTail(policy.group) },
    {
      table: 'filter', name: FORWARD, builtin: 'FORWARD', rules: [
        ...(policy.isolate ? [`-m devgroup --src-group ${g} --dst-group ${g} -j DROP`] : []),
        `-m devgroup --dst-group ${g} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
        `-m devgroup --src-group ${g} -j ACCEPT`,
      ],
    },
    {
      table: 'filter', name: INPUT, builtin: 'INPUT', rules: [
        `-m devgroup ! --src-group ${g} -j RETURN`,
        '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-p udp -m udp --sport 68 --dport 67 -j ACCEPT',
        '-p udp -m udp --dport 53 -j ACCEPT',
        '-p tcp -m tcp --dport 53 -j ACCEPT',
        '-p icmp -m icmp --icmp-type 8 -j ACCEPT',
        ...services,
        '-j DROP',
      ],
    },
  ];
}

/** `DOM0_SERVICES`: space-separated `tcp/22`, `udp/123`, `tcp/6000-6010`. */
export function parseServices(text: string): Service[] {
  return text.split(/[\s,]+/).filter(Boolean).map((word) => {
    const match = /^(tcp|udp)\/([0-9]{1,5})(?:[-:]([0-9]{1,5}))?$/.exec(word);
    const low = Number(match?.[2]);
    const high = match?.[3] === undefined ? low : Number(match[3]);
    if (!match || !(low >= 1 && high <= 65535 && low <= high)) {
      throw new VifError('BAD_CONFIG', `DOM0_SERVICES: ${JSON.stringify(word.slice(0, 40))} is not tcp/<port>, udp/<port> or tcp/<low>-<high>`,
        'list dom0 services guests may use, e.g. DOM0_SERVICES="tcp/22 udp/123"', { word });
    }
    return { protocol: match[1] as Service['protocol'], ports: low === high ? String(low) : `${low}:${high}` };
  });
}

/** Parse iptables-save output (counters, if any, are dropped). */
export function parseSave(text: string): RuleState {
  const tables = new Map<string, Map<string, string[]>>();
  let chains: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\[\d+:\d+\]\s+/, '').trimEnd();
    if (line.startsWith('*')) {
      chains = new Map();
      tables.set(line.slice(1), chains);
    } else if (chains && line.startsWith(':')) {
      chains.set(line.slice(1).split(' ')[0]!, []);
    } else if (chains && line.startsWith('-A ')) {
      const rest = line.slice(3);
      const space = rest.indexOf(' ');
      const chain = space === -1 ? rest : rest.slice(0, space);
      if (!chains.has(chain)) chains.set(chain, []);
      chains.get(chain)!.push(space === -1 ? '' : rest.slice(space + 1));
    }
  }
  return tables;
}

export function chainRules(state: RuleState, table: Table, chain: string): readonly string[] | undefined {
  return state.get(table)?.get(chain);
}

export function countRule(state: RuleState, table: Table, chain: string, rule: string): number {
  return (chainRules(state, table, chain) ?? []).filter((r) => r === rule).length;
}

/** Per-vif chains present in the raw table, by device. */
export function vifChainDevices(state: RuleState): string[] {
  return [...(state.get('raw')?.keys() ?? [])].filter((c) => c.startsWith(VIF_CHAIN_PREFIX)).map((c) => c.slice(VIF_CHAIN_PREFIX.length));
}

/** Vifs carrying a dom0-side address of the scheme (from `ip -4 addr`), each with its guest's address; a device may appear with several. */
export function runningVifs(scheme: Scheme, addresses: ReadonlyArray<readonly [device: string, address: string]>): VifBinding[] {
  const bindings: VifBinding[] = [];
  for (const [device, address] of addresses) {
    const value = parseIPv4(address);
    const decoded = value === undefined ? undefined : decode(scheme, value);
    if (decoded?.side === 'dom0' && DEVICE.test(device)) bindings.push({ device, vmIp: formatIPv4(encode(scheme, { ...decoded, side: 'vm' })) });
  }
  return bindings;
}
