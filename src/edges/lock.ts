// The cross-process lock (proper-lockfile) with an owner record: taken over only when its holder is gone, never for being slow.
import { dirname, join } from 'node:path';
import { mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import lockfile from 'proper-lockfile';
import { VifError } from '../core/errors';
import { lockfileFs } from './lockfile-fs';
import { lockVerdict, parseOwner, parseProcStartTime, renderOwner, type LockOwner, type LockVerdict } from '../core/lock-owner';

export interface LockOptions {
  readonly lockPath: string;
  readonly staleMs: number; // age after which a lock with no checkable owner record counts as abandoned (a dead recorded holder: at once)
  readonly waitMs: number; // give up after this long; stays under libxl's 40 s hotplug timeout
  readonly retryMaxMs?: number; // longest pause between tries (default 100 ms, chosen from the storm benchmark)
}

export interface HeldLock {
  readonly waitedMs: number;
  readonly attempts: number;
  /** How long the lock was held, once released. */
  heldMs(): number | undefined;
  /** Throws LOCK_LOST unless the lock is still ours (our owner record in place, proper-lockfile saw nothing wrong): call it just before writing. */
  assertHeld(): void;
  release(): Promise<void>;
}

const FIRST_DELAY_MS = 2;
export const DEFAULT_RETRY_MAX_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Exponential back-off from 2 ms to `maxMs`, each delay randomised by x0.5..1.5 so waiters do not move in lockstep. */
export function retryDelay(attempt: number, random: () => number = Math.random, maxMs = DEFAULT_RETRY_MAX_MS): number {
  const base = Math.min(maxMs, FIRST_DELAY_MS * 1.5 ** attempt);
  return base * (0.5 + random());
}

/** This process as an owner record names it (pid, its start time, its PID namespace); the token is added per acquisition. */
let self: Omit<LockOwner, 'token'> | undefined;
function ourIdentity(): Omit<LockOwner, 'token'> {
  if (!self) {
    let start = '0';
    let pidns = 'unknown';
    try { start = parseProcStartTime(readFileSync('/proc/self/stat', 'latin1')) ?? start; } catch { /* no /proc: records are never trusted */ }
    try { pidns = readlinkSync('/proc/self/ns/pid'); } catch { /* idem */ }
    self = { pid: process.pid, start, pidns };
  }
  return self;
}

const recordPath = (lockDir: string) => join(lockDir, 'owner');

function readRecordText(lockDir: string): string | undefined {
  try { return readFileSync(recordPath(lockDir), 'latin1'); } catch { return undefined; }
}

function startTimeOf(pid: number): string | undefined {
  try { return parseProcStartTime(readFileSync(`/proc/${pid}/stat`, 'latin1')); } catch { return undefined; }
}

export function lockLost(lockPath: string, why: string): VifError {
  return new VifError('LOCK_LOST', `the lock ${lockPath} stopped being ours before we wrote (${why})`,
    'nothing was written; the request is tried again under the lock', { lockPath, why });
}

export const isLockLost = (err: unknown): boolean => err instanceof VifError && err.code === 'LOCK_LOST';

export interface LockSeen {
  readonly verdict: LockVerdict;
  readonly ageMs: number;
  readonly holderPid?: number; // from its owner record
  readonly text?: string; // the record as read
  readonly ino: number;
}

/** The lock as it is now (undefined when free) and whether its holder is gone: for takers and for doctor. */
export function inspectLock(lockPath: string, staleMs: number): LockSeen | undefined {
  // free: nothing thrown and caught on the common path. A lock replaced between this stat and the record's read pairs
  // one lock's inode with another's record: takeOverIfAbandoned then finds the inode changed and puts the lock back
  const stat = statSync(lockPath, { throwIfNoEntry: false });
  if (!stat) return undefined;
  const text = readRecordText(lockPath);
  const record = parseOwner(text);
  const us = ourIdentity();
  const liveStart = record !== undefined && record.pidns === us.pidns ? startTimeOf(record.pid) : undefined;
  const ageMs = Date.now() - stat.mtimeMs;
  return { verdict: lockVerdict({ record, ourPidNs: us.pidns, liveStart, ageMs, staleMs }), ageMs, holderPid: record?.pid, text, ino: stat.ino };
}

/**
 * A lock whose holder is gone: moved aside (rename is atomic) and removed, but only if what we moved is the lock we judged;
 * a lock that changed hands meanwhile is put back, and its holder, finding its record missing, would not write anyway.
 */
function takeOverIfAbandoned(lockPath: string, judged: LockSeen): boolean {
  const aside = `${lockPath}.abandoned.${process.pid}.${Date.now()}`;
  try { renameSync(lockPath, aside); } catch { return false; } // someone else moved it first
  let moved: number | undefined;
  try { moved = statSync(aside).ino; } catch { /* removed under us */ }
  if (moved !== judged.ino || readRecordText(aside) !== judged.text) {
    try { renameSync(aside, lockPath); } catch { /* a new lock is in place: the one moved aside is lost to its holder */ }
    return false;
  }
  rmSync(aside, { recursive: true, force: true });
  return true;
}

/**
 * One try: the lock if it is free (or its holder is gone), else undefined. Never waits. A lock seen held by a live holder
 * costs two small synchronous reads (its record, its holder's /proc entry): what most tries in a storm find.
 */
export async function tryAcquireLock(options: LockOptions): Promise<HeldLock | undefined> {
  const started = Date.now();
  const seen = inspectLock(options.lockPath, options.staleMs);
  if (seen?.verdict === 'held') return undefined;
  if (seen?.verdict === 'abandoned' && !takeOverIfAbandoned(options.lockPath, seen)) return undefined;
  let compromisedBy: Error | undefined;
  const settings = {
    fs: lockfileFs, // synchronous underneath: no threadpool
    realpath: false, // the lock guards a directory entry that need not exist
    lockfilePath: options.lockPath,
    stale: 2 ** 31 - 1, // proper-lockfile never judges by age itself: takeOverIfAbandoned does, from the owner record
    update: Math.max(1000, Math.floor(options.staleMs / 3)), // keeps the mtime fresh for a record that cannot be checked
    retries: 0, // retried by the callers, with a deadline and jitter
    onCompromised: (err: Error) => { compromisedBy = err; },
  };
  for (let tries = 0; tries < 3; tries++) {
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(options.lockPath, settings);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOCKED') {
        // taken between our look and our mkdir: by a live holder (the usual), or by one that died at once
        const now = tries === 0 ? inspectLock(options.lockPath, options.staleMs) : undefined;
        if (now?.verdict === 'abandoned' && takeOverIfAbandoned(options.lockPath, now)) continue;
        return undefined;
      }
      if (code === 'ENOENT' && tries === 0) {
        mkdirSync(dirname(options.lockPath), { recursive: true, mode: 0o755 });
        continue;
      }
      throw new VifError('FILE_IO', `cannot take the lock ${options.lockPath}: ${(err as Error).message}`,
        `check that ${dirname(options.lockPath)} is writable by root`, { lockPath: options.lockPath }, err);
    }
    const owner = renderOwner({ ...ourIdentity(), token: `${process.pid.toString(36)}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 10)}` });
    try {
      // proper-lockfile counts a lock whose mtime is not the one it set as compromised: creating the record must not move it
      const { atime, mtime } = statSync(options.lockPath);
      writeFileSync(recordPath(options.lockPath), owner, { flag: 'wx', mode: 0o600 });
      try { utimesSync(options.lockPath, atime, mtime); } catch { /* then proper-lockfile flags it compromised: LOCK_LOST, retried */ }
    } catch {
      await release().catch(() => undefined); // our directory was replaced before we could sign it: not ours
      return undefined;
    }
    const acquired = Date.now();
    let heldMs: number | undefined;
    const assertHeld = () => {
      if (compromisedBy) throw lockLost(options.lockPath, compromisedBy.message);
      if (readRecordText(options.lockPath) !== owner) throw lockLost(options.lockPath, 'another process took it over');
    };
    return {
      waitedMs: acquired - started,
      attempts: 1,
      heldMs: () => heldMs,
      assertHeld,
      release: async () => {
        if (readRecordText(options.lockPath) === owner) {
          try { unlinkSync(recordPath(options.lockPath)); } catch { /* proper-lockfile's rmdir then fails: the next taker sees no record */ }
        }
        await release().catch(() => undefined);
        heldMs = Date.now() - acquired;
      },
    };
  }
  return undefined;
}

/** The lock, tried again and again (jittered back-off) until `waitMs` has passed; then LOCK_TIMEOUT. */
export async function acquireLock(options: LockOptions): Promise<HeldLock> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const lock = await tryAcquireLock(options);
    if (lock) return { ...lock, waitedMs: Date.now() - started, attempts: attempt + 1 };
    const waited = Date.now() - started;
    if (waited >= options.waitMs) throw lockTimeout(options.lockPath, waited);
    await sleep(Math.min(retryDelay(attempt, Math.random, options.retryMaxMs), options.waitMs - waited + 1));
  }
}

export function lockTimeout(lockPath: string, waitedMs: number, purpose = ''): VifError {
  return new VifError('LOCK_TIMEOUT', `gave up waiting ${waitedMs} ms for the lock ${lockPath}${purpose ? ` ${purpose}` : ''}`,
    `another vif-nat-dns is stuck holding it; if none runs (pgrep -f vif-nat-dns), remove ${lockPath}`, { lockPath, waitedMs });
}
