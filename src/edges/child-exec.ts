// The hook's command runner on node:child_process: the same contract and errors as exec.ts (execa) at a fraction of the start-up CPU.
// Measured (bench/RESULTS.md, the runner A/B): evaluating execa and its first spawn cost an online more CPU than the rest of
// its spawns together; the admin CLI, where a few ms do not matter, keeps execa.
import { spawn } from 'node:child_process';
import { commandFailed, couldNotRun, type Exec } from './exec';

const TIMEOUT_MS = 20_000;

export const childExec: Exec = (file, args, options = {}) => new Promise((resolve, reject) => {
  const child = spawn(file, [...args], {
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
    timeout: TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.on('error', (err: NodeJS.ErrnoException) => reject(couldNotRun(file, args, err.message, err.code === 'ENOENT', err)));
  child.on('close', (code, signal) => {
    const out = { exitCode: code ?? 1, stdout: Buffer.concat(stdout).toString().replace(/\n$/, ''), stderr: Buffer.concat(stderr).toString().replace(/\n$/, '') };
    if (signal !== null) reject(couldNotRun(file, args, `killed by ${signal}${signal === 'SIGKILL' ? ` (after ${TIMEOUT_MS} ms?)` : ''}`, false));
    else if (options.check && out.exitCode !== 0) reject(commandFailed(file, args, out, options.input));
    else resolve(out);
  });
  if (options.input !== undefined) {
    child.stdin!.on('error', () => undefined); // a command that exits without reading its input: its exit status tells
    child.stdin!.end(options.input);
  }
});
