// What every admin command works through: the configuration and the same edges the hook uses.
import type { Config } from '../core/config';
import { loadConfig } from '../edges/config-file';
import { createDnsmasq, type Dnsmasq } from '../edges/dnsmasq';
import { exec, type Exec } from '../edges/exec';
import { createFileStore, type FileStore } from '../edges/file-store';
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
  return {
    config,
    env,
    files: createFileStore({ hostsFile: config.hostsFile, ethersFile: config.ethersFile, lockPath: config.lockPath, staleMs: config.lockStaleMs, waitMs: config.lockWaitMs, retryMaxMs: config.lockRetryMaxMs }),
    net: createNetworkOps(exec),
    dnsmasq: createDnsmasq(config.dnsmasqPidFiles, config.dnsmasqLeaseFile, exec),
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
