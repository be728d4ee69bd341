// Entry point of the vif hotplug script: parse the invocation, build the edges, run the event, map the outcome to an exit code.
import { parseInvocation } from './invocation';
import { HOOK_HELP } from './help';
import { describeError, isVifError } from '../core/errors';
import { loadConfig } from '../edges/config-file';
import { createLogger, type Logger } from '../edges/log';
import { openXenStore } from '../edges/xenstore';
import { createRequestQueue } from '../edges/request-queue';
import { createNetworkOps } from '../edges/network';
import { createDnsmasq } from '../edges/dnsmasq';
import { createFirewall } from '../edges/firewall';
import { exec, preloadExec } from '../edges/exec';
import { childExec } from '../edges/child-exec';
import { online } from './online';
import { offline } from './offline';
import { phaseTimer, uptimeMs, type HookDeps } from './deps';
import { EVENT_HANDLED, type EventRole } from './cached-loader';
import { createAddressStore } from '../pool/create-address-store';
import { slowEventWarning } from './slow-event';

const TAG = 'vif-nat-dns';

/** Set at build time (esbuild --define); only the benchmark's A/B builds a hook with "execa". */
declare const HOOK_RUNNER: 'child_process' | 'execa';
const OFFLINE_LOCK_WAIT_MS = 10_000;
const OFFLINE_ETCD_TIMEOUT_MS = 1000;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let log: Logger = createLogger(TAG, 'info', undefined);
  let event;
  try {
    event = parseInvocation(argv, env);
  } catch (err) {
    log.error(describeError(err));
    return 2;
  }
  if (event.kind === 'help') {
    process.stdout.write(HOOK_HELP);
    return 0;
  }
  if (event.kind === 'noop') {
    return 0;
  }
  const started = uptimeMs();
  let slow: NodeJS.Timeout | undefined;
  try {
    const config = loadConfig(env);
    log = createLogger(TAG, config.logLevel, config.syslogSocket);
    const timer = phaseTimer(config.logLevel === 'debug');
    // libxl kills a hotplug script at 40 s without a word from it: one still running after WARN_AFTER_MS says where it is
    const slowEvent = { kind: event.kind, command: event.command, device: event.device, pool: config.pool !== undefined };
    const warn = log.warn;
    slow = setTimeout(() => warn(slowEventWarning(slowEvent, config.warnAfterMs, timer.done)), config.warnAfterMs).unref();
    // child_process: evaluating execa and its first spawn cost an event more CPU than all its other spawns (bench: the
    // runner A/B builds the hook with HOOK_RUNNER="execa"; the shipped bundle does not even contain execa)
    if (HOOK_RUNNER === 'execa') preloadExec(); // evaluated while xenstore is read
    const run = HOOK_RUNNER === 'execa' ? exec : childExec;
    const net = createNetworkOps(run);
    const dnsmasq = createDnsmasq(config.dnsmasqPidFiles, config.dnsmasqLeaseFile, run);
    const queue = createRequestQueue(config, { net, dnsmasq });
    const deps: HookDeps = {
      config,
      mark: timer.mark,
      log,
      openXenStore: () => openXenStore(env),
      files: queue.files,
      queue,
      // offline never blocks teardown for long: past 10 s it gives up on the ethers line (regen-ethers or the next online fix it)
      queueWaitMs: event.kind === 'down' ? Math.min(config.lockWaitMs, OFFLINE_LOCK_WAIT_MS) : config.lockWaitMs,
      net,
      firewall: createFirewall(run, config.firewall),
      dnsmasq,
      // offline never waits long for the registry either: the watcher's reconcile finishes what it could not
      addresses: createAddressStore(config, run, event.kind === 'down' ? Math.min(config.pool?.timeoutMs ?? 0, OFFLINE_ETCD_TIMEOUT_MS) : undefined),
    };
    const { stats } = queue;
    const took = () => `${Math.round(uptimeMs() - started)} ms, queued ${stats.queuedMs} ms, held ${stats.heldMs} ms, batch ${stats.batchSize}`;
    if (event.kind === 'up') {
      const result = await online(event, deps);
      log.info(`${event.command} ${result.device}: ${result.hostname} ${result.vmIp} (${result.mac}), dom0 side ${result.dom0Ip}; ${took()}`);
    } else {
      const result = await offline(event, deps);
      log.info(`${event.command} ${result.device}: ${result.vmIp ?? 'no managed address'}, removed ${result.removedEthersLines.length} ethers line(s)${result.problems.length ? `, ${result.problems.length} problem(s)` : ''}; ${took()}`);
    }
    log.debug(`phases (ms): ${timer.summary()}; maxrss ${process.resourceUsage().maxRSS} KiB`);
    log.debug(`cpu phases (ms): ${timer.cpuSummary()}; this process only, not its children`);
    // tells the loader its code cache is worth writing, and which part of a batch this run compiled
    (globalThis as Record<symbol, unknown>)[EVENT_HANDLED] = (stats.batches > 0 ? 'applied' : 'waited') satisfies EventRole;
    return 0;
  } catch (err) {
    log.error(`${event.command} ${event.device} failed: ${describeError(err)}`);
    if (!isVifError(err) && err instanceof Error && err.stack) log.debug(err.stack);
    return event.kind === 'down' ? 0 : 1;
  } finally {
    clearTimeout(slow);
  }
}
