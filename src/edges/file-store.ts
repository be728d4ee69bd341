// Locked, guarded, atomic read-modify-write of /etc/hosts and /etc/ethers: both or neither, nothing half-written, no lost update.
import { basename, dirname, join, resolve } from 'node:path';
// synchronous fs throughout: a hook does one thing at a time, and node:fs/promises costs every hook its evaluation (bench)
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, realpathSync, statSync, writeSync, type Stats } from 'node:fs';
import { VifError } from '../core/errors';
import { escapeRegExp } from '../core/regexp';
import { writeFileAtomicSync } from './atomic-write';
import { removeIfThere } from './fs-text';
import { acquireLock, isLockLost, type HeldLock, type LockOptions } from './lock';

export interface Snapshot {
  readonly hosts: string; // latin1, so every byte survives the round trip
  readonly ethers: string;
}

export interface FileUpdate {
  readonly hosts?: string; // undefined: leave the file alone
  readonly ethers?: string;
}

export interface TransactionStats {
  lockWaitMs: number;
  lockHeldMs: number;
  attempts: number;
}

export interface FileStore {
  /** Read both files without the lock (for listings and dry runs). */
  read(): Promise<Snapshot>;
  /** Under the lock: read, let `plan` decide, write what changed; re-run `plan` if a file changed under us. */
  transact<T>(plan: Plan<T>): Promise<T>;
  /** The same, for a caller that already holds the lock (the queue's holder applying a batch). */
  transactHeld<T>(lock: HeldLock, plan: Plan<T>): Promise<T>;
  readonly stats: TransactionStats;
}

export type Plan<T> = (snapshot: Snapshot) => Promise<{ update: FileUpdate; result: T }> | { update: FileUpdate; result: T };

export interface FileStoreOptions extends LockOptions {
  readonly hostsFile: string;
  readonly ethersFile: string;
}

interface FileState {
  readonly content: string;
  readonly stat?: Stats;
}

class ConcurrentChange extends Error {}

/** `read()`, or `fallback` when it throws (a file that is not there, or not readable: nothing to sweep). */
function readOr<T>(read: () => T, fallback: T): T {
  try { return read(); } catch { return fallback; }
}

/** A replacement keeps the mode and owner of the file it replaces; a new file is 0644 root. */
const keptModeAndOwner = (before: Stats | undefined) => ({
  mode: before ? before.mode & 0o7777 : 0o644,
  owner: before ? { uid: before.uid, gid: before.gid } : undefined,
});

const MAX_ATTEMPTS = 5;

/** Content and identity from one open file: a replacement in between cannot pair one file's text with another's stat. */
function readState(file: string): FileState {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { content: '' };
    throw ioError('read', file, err);
  }
  try {
    const fileStat = fstatSync(fd);
    return { content: readFileSync(fd, 'latin1'), stat: fileStat };
  } catch (err) {
    throw ioError('read', file, err);
  } finally {
    closeSync(fd);
  }
}

function ioError(op: 'read' | 'write', file: string, err: unknown): VifError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  const hints: Record<string, string> = {
    ENOSPC: `free space on the filesystem holding ${dirname(file)}; the file was left as it was`,
    EROFS: `${dirname(file)} is read-only; remount it read-write; the file was left as it was`,
    EACCES: 'run the hook as root',
    EPERM: `check the file's attributes (lsattr ${file})`,
  };
  return new VifError('FILE_IO', `cannot ${op} ${file}: ${code} (${(err as Error).message})`, hints[code] ?? 'check the file and its directory', { file, code }, err);
}

function sameFile(before: Stats | undefined, now: Stats | undefined): boolean {
  if (!before || !now) return before === now;
  return before.ino === now.ino && before.size === now.size && before.mtimeMs === now.mtimeMs && before.ctimeMs === now.ctimeMs;
}

function currentStat(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('read', file, err);
  }
}

/** A directory others can write to would let them plant a symlink at our temp file's name (or a request in the queue): refuse it. */
export function assertRootOnlyDirectory(file: string, dir: string): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  let dirStat: Stats;
  try { dirStat = statSync(dir); } catch (err) { throw ioError('write', file, err); }
  if (dirStat.uid !== 0 || (dirStat.mode & 0o002) !== 0 || ((dirStat.mode & 0o020) !== 0 && dirStat.gid !== 0)) {
    throw new VifError('FILE_IO', `refusing to write ${file}: its directory ${dir} is writable by users other than root`,
      `chmod go-w ${dir}, or configure a path in a root-only directory`, { file, dir, mode: (dirStat.mode & 0o7777).toString(8) });
  }
}

export function createFileStore(options: FileStoreOptions): FileStore {
  const journal = `${options.lockPath}.tmpfiles`;
  const stats: TransactionStats = { lockWaitMs: 0, lockHeldMs: 0, attempts: 0 };

  /**
   * A writer killed mid-write leaves its temp file (<real target>.<digits>, atomic-write.ts) behind. Before each write
   * the journal records the real target and the time; the next lock holder removes that target's temp-named siblings
   * created since (an older hosts.20240101 backup of the administrator's is never touched).
   */
  function sweepTempFiles(): void {
    const journalStat = lstatSync(journal, { throwIfNoEntry: false });
    if (!journalStat) return;
    // only a regular file of ours is read; anything planted at that name (a symlink, a fifo) is just removed
    const listed = journalStat.isFile() ? readOr(() => readFileSync(journal, 'utf8'), '') : '';
    for (const line of listed.split('\n').filter(Boolean)) {
      const [target, since] = line.split('\t');
      if (!target || !since) continue;
      const dir = dirname(target);
      const pattern = new RegExp(`^${escapeRegExp(basename(target))}\\.\\d{1,10}$`);
      for (const name of readOr(() => readdirSync(dir), [] as string[])) {
        if (!pattern.test(name)) continue;
        const tmp = join(dir, name);
        const tmpStat = readOr(() => lstatSync(tmp), undefined);
        if (tmpStat?.isFile() && tmpStat.mtimeMs >= Number(since) - 1000) removeIfThere(tmp);
      }
    }
    removeIfThere(journal);
  }

  const realTargets = new Map<string, string>();
  const realTarget = (file: string) => {
    if (!realTargets.has(file)) realTargets.set(file, readOr(() => realpathSync(file), resolve(file)));
    return realTargets.get(file)!;
  };

  async function writeOne(lock: HeldLock, file: string, content: string, before: Stats | undefined): Promise<void> {
    if (!sameFile(before, currentStat(file))) throw new ConcurrentChange(file);
    // O_NOFOLLOW: a symlink planted at the journal's name must not turn this append into a write elsewhere
    const target = realTarget(file);
    const fd = openSync(journal, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try { writeSync(fd, `${target}\t${Date.now()}\n`); } finally { closeSync(fd); }
    lock.assertHeld(); // synchronously before the rename: a holder that lost the lock while starved never writes
    try {
      writeFileAtomicSync(target, Buffer.from(content, 'latin1'), keptModeAndOwner(before));
    } catch (err) {
      throw ioError('write', file, err);
    }
  }

  // directory permissions are checked once per process, before the lock: they do not change under a hook
  let safeDirectories = false;

  function checkDirectories(): void {
    if (safeDirectories) return;
    for (const file of [options.hostsFile, options.ethersFile, options.lockPath]) assertRootOnlyDirectory(file, dirname(realTarget(file)));
    safeDirectories = true;
  }

  /** One read-plan-write under the held lock; ConcurrentChange when a file is not the one we read. */
  async function attempt<T>(lock: HeldLock, plan: Plan<T>): Promise<T> {
    sweepTempFiles();
    const [hosts, ethers] = [readState(options.hostsFile), readState(options.ethersFile)];
    const { update, result } = await plan({ hosts: hosts.content, ethers: ethers.content });
    const writes: Array<[string, string, FileState]> = [];
    if (update.hosts !== undefined && update.hosts !== hosts.content) writes.push([options.hostsFile, update.hosts, hosts]);
    if (update.ethers !== undefined && update.ethers !== ethers.content) writes.push([options.ethersFile, update.ethers, ethers]);
    if (writes.length === 0) return result;
    lock.assertHeld();
    // the two files are independent: replace them side by side, then undo the ones that landed if one failed
    const outcomes = await Promise.allSettled(writes.map(([file, content, before]) => writeOne(lock, file, content, before.stat)));
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) {
      // a lost lock undoes nothing: the new holder reads what we wrote (or finds it changed) and our request is applied again
      if (isLockLost(failure.reason)) throw failure.reason;
      for (const [file, , before] of writes.filter((_, i) => outcomes[i]!.status === 'fulfilled')) {
        try { writeFileAtomicSync(realTarget(file), Buffer.from(before.content, 'latin1'), keptModeAndOwner(before.stat)); } catch { /* best effort: the failure is reported */ }
      }
      throw failure.reason;
    }
    removeIfThere(journal);
    return result;
  }

  async function transactHeld<T>(lock: HeldLock, plan: Plan<T>): Promise<T> {
    checkDirectories();
    for (let n = 1; ; n++) {
      stats.attempts = n;
      try {
        return await attempt(lock, plan);
      } catch (err) {
        if (!(err instanceof ConcurrentChange)) throw err;
        if (n >= MAX_ATTEMPTS) {
          throw new VifError('FILE_IO', `${err.message} kept changing while we held the lock (${n} attempts)`,
            'another program rewrites it without vif-nat-dns\'s lock; stop it and retry', { file: err.message });
        }
      }
    }
  }

  return {
    stats,
    async read() {
      return { hosts: readState(options.hostsFile).content, ethers: readState(options.ethersFile).content };
    },
    transactHeld,
    async transact(plan) {
      checkDirectories();
      const lock = await acquireLock(options);
      stats.lockWaitMs += lock.waitedMs;
      try {
        return await transactHeld(lock, plan);
      } finally {
        await lock.release();
        stats.lockHeldMs += lock.heldMs() ?? 0;
      }
    },
  };
}
