// The host's sysctl configuration as systemd-sysctl and procps read it: every *.conf of the sysctl.d directories, and /etc/sysctl.conf.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SYSCTL_DIRS = ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d'];

/** Each readable file with its text; a missing directory or unreadable file is skipped (a file masked in /etc is read anyway: the caller errs on the safe side). */
export function readSysctlConfig(root = '/'): Array<{ path: string; text: string }> {
  const files: Array<{ path: string; text: string }> = [];
  const read = (path: string) => {
    try { files.push({ path, text: readFileSync(join(root, path), 'utf8') }); } catch { /* not there */ }
  };
  for (const dir of SYSCTL_DIRS) {
    let names: string[] = [];
    try { names = readdirSync(join(root, dir)).filter((name) => name.endsWith('.conf')).sort(); } catch { /* not there */ }
    for (const name of names) read(`${dir}/${name}`);
  }
  read('/etc/sysctl.conf');
  return files;
}
