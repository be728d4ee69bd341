// The batch applier for /etc/hosts and /etc/ethers: every queued request in one locked read-modify-write and one dnsmasq reload.
import { decodeRequest, serializeError, type BatchRequest, type RequestResult } from '../core/batch-request';
import { planBatch, type LiveAddresses } from '../core/plan-batch';
import { parseHosts, renderHosts } from '../core/hosts-file';
import { parseEthers, renderEthers } from '../core/ethers-file';
import type { Scheme } from '../core/scheme';
import type { BatchApplier } from './group-commit';
import type { FileStore } from './file-store';
import type { NetworkOps } from './network';
import type { Dnsmasq } from './dnsmasq';

export interface AppliedResult {
  readonly result: RequestResult;
  /** Set when dnsmasq could not be reloaded after the batch (not running, stale pid file). */
  readonly reloadWarning?: string;
}

export interface FileBatchDeps {
  readonly scheme: Scheme;
  readonly files: FileStore;
  readonly net: Pick<NetworkOps, 'liveness'>;
  readonly dnsmasq: Pick<Dnsmasq, 'reload'>;
}

/**
 * Requests are applied in queue order. Applying one twice is harmless: an online finds its lines already there (same
 * address, no change), an offline finds its line gone, a rollback finds nothing left to undo; so a batch whose holder
 * was killed after writing the files but before publishing is simply applied again by the next holder.
 */
export function fileBatchApplier(deps: FileBatchDeps): BatchApplier<AppliedResult> {
  return async (lock, queued) => {
    const decoded = queued.map((entry): BatchRequest | RequestResult => {
      try {
        return decodeRequest(entry.data);
      } catch (err) {
        return { kind: 'error', error: serializeError(err) };
      }
    });
    const requests = decoded.filter((d): d is BatchRequest => d.kind !== 'error');
    let live: LiveAddresses | undefined;
    const planned = await deps.files.transactHeld(lock, async (snapshot) => {
      const state = { hosts: parseHosts(snapshot.hosts), ethers: parseEthers(snapshot.ethers) };
      let plan = planBatch(deps.scheme, state, requests, live);
      if (plan.kind === 'needs-liveness') {
        live = (await deps.net.liveness('')).devicesByAddress; // once for the whole batch
        plan = planBatch(deps.scheme, state, requests, live);
      }
      if (plan.kind !== 'plan') throw new Error('planBatch asked for liveness twice');
      return {
        update: { hosts: plan.hostsChanged ? renderHosts(plan.state.hosts) : undefined, ethers: plan.ethersChanged ? renderEthers(plan.state.ethers) : undefined },
        result: plan.results,
      };
    });
    // one reload for the batch, also when nothing changed: a holder killed between its write and its reload left dnsmasq behind
    const applied = planned.some((r) => r.kind !== 'error');
    const reload = applied ? await deps.dnsmasq.reload() : undefined;
    const reloadWarning = reload && 'warning' in reload ? reload.warning : undefined;
    let next = 0;
    return decoded.map((d) => ({ result: d.kind === 'error' ? d : planned[next++]!, reloadWarning }));
  };
}
