// The hook's command runner on node:child_process: the same contract and errors as exec.ts (execa) at a fraction of the start-up CPU.
// spawnSync: no stream or socket objects for the child's three pipes, which made up most of an online's spawn cost (bench/RESULTS.md).
// A hook runs its few short commands one after another anyway; only timers (lock refresh, queue fallbacks) wait meanwhile.
import { spawnSync } from 'node:child_process';
import { commandFailed, couldNotRun, type Exec } from './exec';

const TIMEOUT_MS = 20_000;
/** iptables-save on a host with thousands of guests prints megabytes: far below this. */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

export const childExec: Exec = async (file, args, options = {}) => {
  const child = spawnSync(file, [...args], {
    input: options.input,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
    timeout: TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_OUTPUT_BYTES,
  });
  const error = child.error as NodeJS.ErrnoException | undefined;
  // EPIPE: a command that exits without reading its input; its exit status tells
  if (error && error.code !== 'EPIPE') {
    throw couldNotRun(file, args, error.code === 'ETIMEDOUT' ? `killed after ${TIMEOUT_MS} ms` : error.message, error.code === 'ENOENT', error);
  }
  if (child.signal !== null) throw couldNotRun(file, args, `killed by ${child.signal}`, false);
  const out = { exitCode: child.status ?? 1, stdout: child.stdout.toString().replace(/\n$/, ''), stderr: child.stderr.toString().replace(/\n$/, '') };
  if (options.check && out.exitCode !== 0) throw commandFailed(file, args, out, options.input);
  return out;
};
