// The hooks' and admin commands' way to /etc/hosts and /etc/ethers: the spool, group commit and file batch applier wired from the config.
import type { Config } from '../core/config';
import { deserializeError, serializeError, type BatchRequest, type RequestResult } from '../core/batch-request';
import { createFileStore, type FileStore } from './file-store';
import { createSpool } from './spool';
import { createGroupCommit, type CommitStats } from './group-commit';
import { fileBatchApplier, type AppliedResult } from './file-batch';
import type { NetworkOps } from './network';
import type { Dnsmasq } from './dnsmasq';

export type ResultOf<K extends BatchRequest['kind']> = Extract<RequestResult, { kind: K }>;

export interface RequestQueue {
  /** Queue a request and wait (at most `waitMs`) for its result; a refused request throws its VifError. */
  submit<R extends BatchRequest>(request: R, waitMs: number): Promise<{ result: ResultOf<R['kind']>; reloadWarning?: string }>;
  /** The files, read freely; every transact runs under the lock after what is queued has been applied. */
  readonly files: FileStore;
  readonly stats: CommitStats;
}

export function createRequestQueue(config: Config, deps: { net: Pick<NetworkOps, 'liveness'>; dnsmasq: Pick<Dnsmasq, 'reload'> }): RequestQueue {
  const lock = { lockPath: config.lockPath, staleMs: config.lockStaleMs, waitMs: config.lockWaitMs, retryMaxMs: config.lockRetryMaxMs };
  const raw = createFileStore({ hostsFile: config.hostsFile, ethersFile: config.ethersFile, ...lock });
  const group = createGroupCommit<AppliedResult>({
    lock,
    spool: createSpool(config.spoolDir),
    apply: fileBatchApplier({ scheme: config.scheme, files: raw, ...deps }),
    failed: (err) => ({ result: { kind: 'error', error: serializeError(err) } }),
  });
  const files: FileStore = {
    stats: raw.stats,
    read: () => raw.read(),
    transactHeld: (held, plan) => raw.transactHeld(held, plan),
    transact: (plan) => group.exclusive((held) => raw.transactHeld(held, plan)),
  };
  return {
    files,
    stats: group.stats,
    async submit(request, waitMs) {
      const { result, reloadWarning } = await group.submit(request, waitMs);
      if (result.kind === 'error') throw deserializeError(result.error);
      if (result.kind !== request.kind) throw new Error(`the ${request.kind} request came back as ${result.kind}`);
      return { result: result as ResultOf<typeof request.kind>, reloadWarning } as never;
    },
  };
}
