// Child processes of the harness: every long-lived one dies with us (PR_SET_PDEATHSIG via setpriv) and on cleanup.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

const living = new Set<ChildProcess>();
const killLiving = () => { for (const child of living) child.kill('SIGKILL'); };
process.once('exit', killLiving);
// an interrupted run (Ctrl-C, a runner's SIGTERM) ends without 'exit': a daemon that changed its user (dnsmasq runs as
// nobody) has lost the parent-death signal and would outlive us, holding its namespaces
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
  process.once(signal, () => { killLiving(); process.exit(128 + number); });
}

/** Run to completion; never throws for a non-zero exit. */
export function run(file: string, args: readonly string[], options: SpawnOptions & { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...options });
    living.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => { stdout += d; });
    child.stderr?.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (err) => { clearTimeout(timer); living.delete(child); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      living.delete(child);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, ms: performance.now() - started });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Run and throw with the command, exit code and stderr when it fails. */
export async function check(file: string, args: readonly string[], options: SpawnOptions & { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const result = await run(file, args, options);
  if (result.code !== 0) throw new Error(`${[file, ...args].join(' ')} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  return result;
}

export interface Daemon {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the first stdout line matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

/** Start a long-lived process that gets SIGKILL if this process dies. */
export function daemon(file: string, args: readonly string[], options: SpawnOptions = {}): Daemon {
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  living.add(child);
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer) => { out += d.toString(); for (const w of waiters) w(); };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.on('close', () => { living.delete(child); for (const w of waiters) w(); resolve(); }));
  return {
    child,
    output: () => out,
    waitFor: (pattern, timeoutMs = 10_000) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} from ${file}; output: ${out.slice(-500)}`)), timeoutMs);
      const check = () => {
        const match = out.match(pattern);
        if (match) { clearTimeout(timer); resolve(match); return true; }
        if (child.exitCode !== null || child.signalCode !== null) { clearTimeout(timer); reject(new Error(`${file} exited before ${pattern}: ${out.slice(-500)}`)); return true; }
        return false;
      };
      if (!check()) waiters.push(() => { check(); });
    }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
