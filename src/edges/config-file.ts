// Loading the configuration: the file named by VIF_NAT_DNS_CONFIG or /etc/xen/vif-nat-dns.conf (absent is fine), then the environment.
import { readFileSync } from 'node:fs';
import { buildConfig, DEFAULT_CONFIG_PATH, parseConfigText, type Config } from '../core/config';
import { VifError } from '../core/errors';

export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const path = env.VIF_NAT_DNS_CONFIG ?? DEFAULT_CONFIG_PATH;
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' || env.VIF_NAT_DNS_CONFIG) {
      throw new VifError('BAD_CONFIG', `cannot read config file ${path}: ${code}`, 'fix its permissions or path', { path }, err);
    }
  }
  return buildConfig(parseConfigText(text, path), env);
}
