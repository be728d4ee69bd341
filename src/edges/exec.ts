// Running system commands through execa, with errors that name the command, its exit code and its stderr.
import { VifError } from '../core/errors';

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Exec {
  /** Run a command; exit code != 0 is returned, not thrown, unless `check` is set. Spawn failures always throw. */
  (file: string, args: readonly string[], options?: { input?: string; check?: boolean }): Promise<ExecResult>;
}

type ExecaFn = typeof import('execa').execa;
let execaPromise: Promise<ExecaFn> | undefined;

/** Start evaluating execa (~14 ms of CPU) while the caller waits on xenstore and the files. */
export function preloadExec(): void {
  void loadExeca();
}

function loadExeca(): Promise<ExecaFn> {
  execaPromise ??= import('execa').then((module) => module.execa);
  return execaPromise;
}

export function commandLine(file: string, args: readonly string[]): string {
  return [file, ...args].map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : JSON.stringify(part))).join(' ');
}

/** A command that could not be started (not installed) or was killed. */
export function couldNotRun(file: string, args: readonly string[], why: string, missing: boolean, cause?: unknown): VifError {
  return new VifError('NETWORK', `${commandLine(file, args)} could not run: ${missing ? 'command not found' : why}`,
    missing ? `install the package that provides ${file}` : 'see the log', { command: commandLine(file, args) }, cause);
}

/** A command that ran and failed (with `check`): its exit code and the first lines of its stderr. */
export function commandFailed(file: string, args: readonly string[], out: ExecResult, input?: string): VifError {
  return new VifError('NETWORK', `${commandLine(file, args)} failed with exit code ${out.exitCode}: ${out.stderr.trim().split('\n').slice(0, 3).join(' / ') || '(no stderr)'}`,
    'fix what the command reports, then retry', { command: commandLine(file, args), exitCode: out.exitCode, stderr: out.stderr, input });
}

export const exec: Exec = async (file, args, options = {}) => {
  const execa = await loadExeca();
  const result = await execa(file, [...args], {
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
    reject: false,
    stripFinalNewline: true,
    env: { LC_ALL: 'C' },
    timeout: 20_000,
  });
  if (result.failed && result.exitCode === undefined) {
    const cause = result.cause as NodeJS.ErrnoException | undefined;
    throw couldNotRun(file, args, result.shortMessage ?? 'killed', cause?.code === 'ENOENT', result.cause);
  }
  const out = { exitCode: result.exitCode ?? 1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
  if (options.check && out.exitCode !== 0) throw commandFailed(file, args, out, options.input);
  return out;
};
