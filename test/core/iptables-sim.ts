// A small model of `iptables-restore --noflush` for table tests: applies -N -X -F -A -I -D lines (and -C checks) to a rule state, all or nothing.
import type { RuleState } from '../../src/core/firewall-rules';

const BUILTIN: Record<string, string[]> = { raw: ['PREROUTING', 'OUTPUT'], filter: ['INPUT', 'FORWARD', 'OUTPUT'] };

export type MutableState = Map<string, Map<string, string[]>>;

export function emptyState(): MutableState {
  return new Map(Object.entries(BUILTIN).map(([table, chains]) => [table, new Map(chains.map((c) => [c, [] as string[]]))]));
}

/** Applies a batch; throws (leaving `state` untouched) where the real iptables-restore would fail. */
export function restore(state: RuleState, batch: string): MutableState {
  const next: MutableState = new Map([...state].map(([t, chains]) => [t, new Map([...chains].map(([c, rules]) => [c, [...rules]]))]));
  let table: Map<string, string[]> | undefined;
  const referenced = (chain: string) => [...table!.values()].some((rules) => rules.some((r) => r.endsWith(`-j ${chain}`) || r.endsWith(`-g ${chain}`)));
  for (const line of batch.split('\n').filter(Boolean)) {
    if (line.startsWith('*')) { table = next.get(line.slice(1)) ?? new Map(); next.set(line.slice(1), table); continue; }
    if (line === 'COMMIT') continue;
    const [, op, chain, rest = ''] = /^(-[NXFAIDC]) (\S+)(?: (.*))?$/.exec(line) ?? [];
    const rules = table!.get(chain!);
    const fail: (why: string) => never = (why) => { throw new Error(`${line}: ${why}`); };
    switch (op) {
      case '-N': if (rules) fail('chain exists'); table!.set(chain!, []); break;
      case '-X': if (!rules) fail('no chain'); if (rules.length || referenced(chain!)) fail('busy'); table!.delete(chain!); break;
      case '-F': if (!rules) fail('no chain'); rules.length = 0; break;
      case '-A': if (!rules) fail('no chain'); if (!target(rest, table!)) fail('no target'); rules.push(rest); break;
      case '-I': { if (!rules) fail('no chain'); const [, n, rule] = /^(\d+) (.*)$/.exec(rest)!; if (!target(rule!, table!)) fail('no target'); rules.splice(Number(n) - 1, 0, rule!); break; }
      case '-C': if (!rules?.includes(rest)) fail('no such rule'); break;
      case '-D': { const i = rules?.indexOf(rest) ?? -1; if (i === -1) fail('no such rule'); rules!.splice(i, 1); break; }
      default: fail('unknown line');
    }
  }
  return next;
}

function target(rule: string, table: Map<string, string[]>): boolean {
  const jump = / -[jg] (\S+)$|^-[jg] (\S+)$/.exec(rule);
  const name = jump?.[1] ?? jump?.[2];
  return name === undefined || ['ACCEPT', 'DROP', 'RETURN'].includes(name) || table.has(name);
}

/** The state as iptables-save would print it. */
export function save(state: RuleState): string {
  return [...state].map(([table, chains]) => [`*${table}`, ...[...chains.keys()].map((c) => `:${c} - [0:0]`),
    ...[...chains].flatMap(([c, rules]) => rules.map((r) => `-A ${c} ${r}`)), 'COMMIT'].join('\n')).join('\n') + '\n';
}
