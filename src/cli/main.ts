// The admin CLI: one command per job, --help on each, documented exit codes; `regen-ethers` also answers to its own name.
import { basename, dirname } from 'node:path';
import { describeError, isVifError } from '../core/errors';
import { createContext, type CliContext, type Command } from './context';
import { regenEthers } from './commands/regen-ethers';
import { forget, gc, list } from './commands/inventory-commands';
import { doctorCommand } from './commands/doctor';
import { ip2mac, mac2ip, macFor } from './commands/mac-commands';
import { installCommand, uninstallCommand } from './commands/install';
import { reserve } from './commands/reserve';
import { regenFirewall, removeFirewall } from './commands/firewall-commands';
import { poolCommand } from './commands/pool';

export function commands(repo: string): Command[] {
  return [list, doctorCommand, regenEthers, regenFirewall, removeFirewall, forget, gc, reserve, macFor, mac2ip, ip2mac, installCommand(repo), uninstallCommand, poolCommand];
}

export function usage(all: readonly Command[]): string {
  const width = Math.max(...all.map((c) => c.name.length));
  return `vif-nat-dns-admin: manage the addresses vif-nat-dns hands out (config: /etc/xen/vif-nat-dns.conf)

Usage: vif-nat-dns-admin <command> [options]      vif-nat-dns-admin <command> --help

${all.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Exit status: 0 success, 1 failure (or doctor found a problem), 2 usage error.
`;
}

export async function main(argv0: string, args: string[], env: NodeJS.ProcessEnv, repo: string): Promise<number> {
  const all = commands(repo);
  const [name, ...rest] = basename(argv0).startsWith('regen-ethers') ? ['regen-ethers', ...args] : args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage(all));
    return name === undefined ? 2 : 0;
  }
  const command = all.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`vif-nat-dns-admin: unknown command ${JSON.stringify(name)}\n\n${usage(all)}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  let ctx: CliContext | undefined;
  try {
    return await command.run(rest, () => (ctx ??= createContext(env)));
  } catch (err) {
    const usageError = (isVifError(err) && err.code === 'USAGE') || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`vif-nat-dns-admin ${name}: ${describeError(err)}\n`);
    return usageError ? 2 : 1;
  }
}

export function repoOf(bundleDir: string): string {
  return dirname(bundleDir);
}
