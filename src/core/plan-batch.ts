// Plan of a batch of queued requests: the per-request plans folded in queue order over one state, as a sequential run would apply them.
import { planOnline, type Liveness } from './plan-online';
import { planOffline } from './plan-offline';
import { revertChange } from './plan-revert';
import { checkPoolAgreement, dropReleased, mergePoolNames } from './pool-materialise';
import type { HostsFile } from './hosts-file';
import type { EthersFile } from './ethers-file';
import type { Scheme } from './scheme';
import { usedMachines, type UsedMachines } from './allocation';
import { serializeError, type BatchRequest, type RequestResult } from './batch-request';

export interface BatchState {
  readonly hosts: HostsFile;
  readonly ethers: EthersFile;
}

/** `ip -4 addr` once for the whole batch: address -> devices (each request's own device is told apart from others'). */
export type LiveAddresses = ReadonlyMap<string, readonly string[]>;

export type RequestPlan = { readonly kind: 'applied'; readonly state: BatchState; readonly result: RequestResult } | { readonly kind: 'needs-liveness' };

/** One request against `state`. A refused request (VifError, or anything thrown) leaves the state as it was and reports why. */
export function planRequest(scheme: Scheme, state: BatchState, request: BatchRequest, live?: LiveAddresses, used?: UsedMachines): RequestPlan {
  try {
    switch (request.kind) {
      case 'online': {
        const liveness: Liveness | undefined = live && { ownDevice: request.device, devicesByAddress: live };
        // a pool dom0: the pool's names first, so the plan finds the registered address (and must agree with it)
        // (names the pool released go first, so a released name starting again is not held at its old address)
        const merged = request.pool && mergePoolNames(dropReleased(state.hosts, request.pool.released ?? [], state.ethers).hosts, request.pool.names);
        const planned = planOnline(scheme, merged?.hosts ?? state.hosts, state.ethers, request, liveness, merged ? undefined : used);
        if (planned.kind === 'needs-liveness') return planned;
        checkPoolAgreement(request, planned.plan);
        const { allocation, displacedMacs, addedHostsLines, addedEthersLines, removedEthersLines, hosts, ethers } = planned.plan;
        return { kind: 'applied', state: { hosts, ethers }, result: { kind: 'online', allocation, displacedMacs, change: { addedHostsLines, addedEthersLines, removedEthersLines }, poolConflicts: merged?.conflicts } };
      }
      case 'offline': {
        // offline goes by what its hook saw when it queued the request (the vif may already be gone by now)
        const liveness: Liveness = { ownDevice: request.device, devicesByAddress: new Map(request.liveAddresses) };
        const planned = planOffline(scheme, state.hosts, state.ethers, request, liveness);
        const { ethers, hostname, vmIp, dom0Ip, removedEthersLines, keptForLiveVif, otherHolder } = planned;
        return { kind: 'applied', state: { hosts: state.hosts, ethers }, result: { kind: 'offline', hostname, vmIp, dom0Ip, removedEthersLines, keptForLiveVif, otherHolder } };
      }
      case 'revert':
        return { kind: 'applied', state: revertChange(state.hosts, state.ethers, request), result: { kind: 'revert' } };
    }
  } catch (err) {
    return { kind: 'applied', state, result: { kind: 'error', error: serializeError(err) } };
  }
}

export interface BatchPlan {
  readonly kind: 'plan';
  readonly state: BatchState;
  readonly results: readonly RequestResult[]; // one per request, in the same order
  readonly hostsChanged: boolean;
  readonly ethersChanged: boolean;
}

/**
 * The batch as the fold of the per-request plans, in the order given (the queue's order): each request is planned
 * against the state the previous ones left, so addresses come out exactly as a sequential run in that order gives them.
 * Asks for liveness (once for the whole batch) as soon as one online needs it.
 */
export function planBatch(scheme: Scheme, initial: BatchState, requests: readonly BatchRequest[], live?: LiveAddresses): BatchPlan | { readonly kind: 'needs-liveness' } {
  let state = initial;
  const results: RequestResult[] = [];
  // used machine numbers, scanned once and kept up to date while requests only add (a 65,000-name file is 4 MB to scan);
  // scanned again after anything that removes a line, which may free a number
  let used: Uint8Array | undefined;
  for (const request of requests) {
    const current = state;
    const planned = planRequest(scheme, state, request, live, () => (used ??= usedMachines(scheme, current.hosts, current.ethers)));
    if (planned.kind === 'needs-liveness') return planned;
    state = planned.state;
    results.push(planned.result);
    const result = planned.result;
    // a pool online may have added other hosts' names (numbers this scan never saw): scan again if anything allocates later
    if (request.kind === 'online' && request.pool && request.pool.names.length > 0) used = undefined;
    else if (result.kind === 'online' && result.change.removedEthersLines.length === 0) used?.fill(1, result.allocation.machine, result.allocation.machine + 1);
    else if (result.kind !== 'error' && !(result.kind === 'offline' && result.removedEthersLines.length === 0)) used = undefined;
  }
  return { kind: 'plan', state, results, hostsChanged: state.hosts !== initial.hosts, ethersChanged: state.ethers !== initial.ethers };
}
