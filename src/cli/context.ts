// What every admin command works through: the configuration and the same edges the hook uses.
import type { Config } from '../core/config';
import { loadConfig } from '../edges/config-file';
import { createDnsmasq, type Dnsmasq } from '../edges/dnsmasq';
import { exec, type Exec } from '../edges/exec';
import type { FileStore } from '../edges/file-store';
import { createRequestQueue } from '../edges/request-queue';
import { createNetworkOps, type NetworkOps } from '../edges/network';
import { openXenStore, type XenStore } from '../edges/xenstore';

export interface CliContext {
  readonly config: Config;
  readonly env: NodeJS.ProcessEnv;
  readonly files: FileStore;
  readonly net: NetworkOps;
  readonly dnsmasq: Dnsmasq;
  readonly exec: Exec;
  readonly openXenStore: () => Promise<XenStore>;
  out(text: string): void;
  err(text: string): void;
}

export function createContext(env: NodeJS.ProcessEnv): CliContext {
  const config = loadConfig(env);
  const net = createNetworkOps(exec);
  const dnsmasq = createDnsmasq(config.dnsmasqPidFiles, config.dnsmasqLeaseFile, exec);
  return {
    config,
    env,
    // every locked change first applies what the hooks have queued, then runs under the same lock
    files: createRequestQueue(config, { net, dnsmasq }).files,
    net,
    dnsmasq,
    exec,
    openXenStore: () => openXenStore(env),
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(args: string[], ctx: () => CliContext): Promise<number>;
}
