// A throw-away copy of this machine's / to install packages into: an overlay (upper on a tmpfs) in its own mount, pid and net namespaces; dpkg and apt inside it change only the tmpfs.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemon, run, type Daemon, type RunResult } from './processes';

// The host's / (one filesystem: its /var/lib/dpkg, /etc, /usr, /run, /tmp) read-only under a writable tmpfs; fresh
// /proc, /run and /tmp; only the harmless character devices. No network: apt can only use what the host has.
const SETUP = `set -e
mount -t tmpfs -o mode=755 vnd-throwaway "$TOP"
mkdir "$TOP/upper" "$TOP/work" "$TOP/root"
mount -t overlay -o lowerdir=/,upperdir="$TOP/upper",workdir="$TOP/work" vnd-root "$TOP/root"
R="$TOP/root"
mount -t proc proc "$R/proc"
mount -t tmpfs -o mode=755 vnd-run "$R/run"
mount -t tmpfs -o mode=1777 vnd-tmp "$R/tmp"
mount -t tmpfs -o mode=755 vnd-dev "$R/dev"
for d in null zero full random urandom tty; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
ln -s /proc/self/fd "$R/dev/fd"
ip link set lo up
echo ready
exec sleep infinity`;

/** What of this machine's dpkg state a stray dpkg or apt would change (tests that install packages elsewhere compare it). */
export const hostDpkgState = () => createHash('sha256').update(readFileSync('/var/lib/dpkg/status')).update(readdirSync('/var/lib/dpkg/info').join('\n')).digest('hex');

export class ThrowawayRoot {
  private constructor(private readonly holder: Daemon, private readonly pid: number, private readonly top: string) {}

  static async create(): Promise<ThrowawayRoot> {
    const top = mkdtempSync(join(tmpdir(), 'vnd-throwaway-'));
    const holder = daemon('unshare', ['--mount', '--propagation', 'private', '--pid', '--fork', '--net', '--kill-child=KILL', '--', 'sh', '-c', SETUP], { env: { ...process.env, TOP: top } });
    try {
      await holder.waitFor(/ready/);
      // setpriv exec'd unshare, whose one child is pid 1 of the new pid namespace: enter that one
      const pid = Number(readFileSync(`/proc/${holder.child.pid}/task/${holder.child.pid}/children`, 'utf8').trim());
      return new ThrowawayRoot(holder, pid, top);
    } catch (err) {
      await holder.stop();
      rmSync(top, { recursive: true, force: true });
      throw err;
    }
  }

  /** Run a command chrooted into the copy, with a clean administrator's environment. */
  run(args: readonly string[], options: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
    const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive', ...options.env };
    return run('nsenter', ['-t', String(this.pid), '-m', '-p', '-n', '--', 'chroot', join(this.top, 'root'), ...args], { env, input: options.input, timeoutMs: options.timeoutMs ?? 120_000 });
  }

  /** A file's content inside the copy ('' when absent). */
  async read(path: string): Promise<string> {
    const result = await this.run(['cat', path]);
    return result.code === 0 ? result.stdout : '';
  }

  async write(path: string, content: string): Promise<void> {
    const result = await this.run(['sh', '-c', 'cat > "$1"', 'sh', path], { input: content });
    if (result.code !== 0) throw new Error(`cannot write ${path} in the throw-away root: ${result.stderr.trim()}`);
  }

  /** Copy a file of this machine into the copy. */
  async copyIn(hostPath: string, path: string): Promise<void> {
    const result = await run('nsenter', ['-t', String(this.pid), '-m', '--', 'cp', hostPath, join(this.top, 'root', path)]);
    if (result.code !== 0) throw new Error(`cannot copy ${hostPath} into the throw-away root: ${result.stderr.trim()}`);
  }

  async exists(path: string): Promise<boolean> {
    return (await this.run(['test', '-e', path])).code === 0;
  }

  async destroy(): Promise<void> {
    await this.holder.stop(); // the namespaces, and with them every mount, go with the holder
    rmSync(this.top, { recursive: true, force: true });
  }
}
