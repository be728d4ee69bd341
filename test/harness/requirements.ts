// What the sandbox needs from the machine, and the exact command that installs what is missing.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const NEEDS: ReadonlyArray<[command: string, debianPackage: string]> = [
  ['ip', 'iproute2'], ['iptables', 'iptables'], ['dnsmasq', 'dnsmasq-base'], ['dhcp_release', 'dnsmasq-utils'],
  ['udhcpc', 'udhcpc'], ['dig', 'dnsutils'], ['xenstore-read', 'xenstore-utils'], ['unshare', 'util-linux'], ['nsenter', 'util-linux'], ['setpriv', 'util-linux'],
];

function onPath(command: string): boolean {
  const dirs = `${process.env.PATH ?? ''}${delimiter}/usr/sbin${delimiter}/sbin`.split(delimiter);
  return dirs.some((dir) => {
    try { accessSync(join(dir, command), constants.X_OK); return true; } catch { return false; }
  });
}

/** Problems as lines an administrator can act on; empty when the sandbox can run (with `extra`: and what the caller needs). */
export function missingRequirements(repo: string, extra: ReadonlyArray<[command: string, debianPackage: string]> = []): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('run as root: network and mount namespaces need it (sudo npm run demo)');
  const missing = [...NEEDS, ...extra].filter(([command]) => !onPath(command));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    problems.push(`missing ${missing.map(([c]) => c).join(', ')}: apt-get install -y ${packages}`);
  }
  if (!existsSync(join(repo, 'dist', 'vif-nat-dns.cjs'))) problems.push('the hook is not built: npm ci && npm run build');
  return problems;
}
