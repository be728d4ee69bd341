// The request queue on disk: one directory per request, appearing whole by rename; its result is published beside it, and its waiter
// woken by inotify (or, past the kernel's inotify instance limit, through a unix socket in that directory).
// Layout: <dir>/<id>/request (JSON, written by the hook), <dir>/<id>/result (JSON, written by the lock holder).
// An id is the enqueue time on CLOCK_MONOTONIC (ns, 20 digits, shared by all processes) then the pid: sorting ids gives queue order.
import { join } from 'node:path';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { assertRootOnlyDirectory } from './file-store';
import { removeIfThere } from './fs-text';

export interface QueuedRequest {
  readonly id: string;
  readonly data: unknown; // parsed JSON, decoded (and validated) by the applier
}

export interface Published<Res> {
  readonly result: Res;
  readonly batchSize: number; // how many requests the batch that applied this one held
  readonly appliedBy: number; // pid of the holder
}

export interface Ticket<Res> {
  readonly id: string;
  /** The published result, if there is one now. */
  poll(): Promise<Published<Res> | undefined>;
  /** Resolves when the result is published (inotify on the request's directory) or after `ms` with undefined. */
  wait(ms: number): Promise<Published<Res> | undefined>;
  /** Stop watching and remove the request's directory (whether or not it was applied). */
  close(): Promise<void>;
}

export interface Spool {
  readonly dir: string;
  enqueue<Res>(request: unknown): Promise<Ticket<Res>>;
  /** Requests not yet applied, in queue order (the lock holder's view). */
  pending(): Promise<QueuedRequest[]>;
  /** Whether any request waits (cheaper than pending(): nothing is read). */
  hasPending(): Promise<boolean>;
  /** Publish a result; the request file goes, so a later holder does not apply it again. */
  publish<Res>(id: string, published: Published<Res>): Promise<void>;
}

const ID = /^\d{20}-\d{1,10}$/;
const MAX_REQUEST_BYTES = 1024 * 1024;
/** A directory left by a hook killed before it read its result (or before it queued) is removed after this long. */
export const ORPHAN_AGE_MS = 120_000;

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** Enqueue time on CLOCK_MONOTONIC (ns, shared by all processes), then the pid: ids sort in queue order. */
export function newRequestId(): string {
  return `${process.hrtime.bigint().toString().padStart(20, '0')}-${process.pid}`;
}

/** Where a waiter without inotify listens: the holder connects to it after publishing (a unix socket in the request's directory). */
const WAKE_SOCKET = 'wake';
const REQUEST = 'request';
const RESULT = 'result';

/**
 * Wake `notify` when the result appears in `dir` (renamed into place: the holder's temp file and the request's removal
 * wake nobody): inotify (fs.watch) while the kernel grants instances; past fs.inotify.max_user_instances (128 by default,
 * fewer than a storm's hooks) a unix socket the holder connects to after publishing.
 */
async function watchDirectory(dir: string, notify: () => void, inotify: boolean): Promise<{ close(): void }> {
  try {
    if (!inotify) throw Object.assign(new Error('inotify not wanted'), { code: 'EMFILE' });
    // no file name (an overflowed event queue): look anyway
    const watcher = watch(dir, { persistent: true }, (_event, name) => { if (name === null || String(name) === RESULT) notify(); });
    watcher.on('error', notify);
    return watcher;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EMFILE' && code !== 'ENOSPC') throw err;
  }
  const server = createServer((connection) => { connection.destroy(); notify(); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(join(dir, WAKE_SOCKET), () => resolve());
  });
  server.on('error', notify);
  return { close: () => server.close() };
}

/** Connect to a waiter's wake socket and hang up; a waiter already gone is no error. */
function poke(socket: string): Promise<void> {
  return new Promise((resolve) => {
    const connection = createConnection(socket, () => { connection.destroy(); resolve(); });
    connection.on('error', () => resolve());
  });
}

/** Remove a request's directory: the files a request can hold, then the directory; anything else there, recursively. */
function removeRequestDir(target: string): void {
  for (const name of [RESULT, REQUEST, WAKE_SOCKET]) removeIfThere(join(target, name));
  try { rmdirSync(target); } catch (err) {
    if (!isMissing(err)) rmSync(target, { recursive: true, force: true }); // a holder's temp file left by a crash
  }
}

/** `inotify: false` forces the socket fallback (tests). Synchronous fs: a hook does one thing at a time (and spares node:fs/promises). */
export function createSpool(dir: string, options: { inotify?: boolean } = {}): Spool {
  let ready = false;
  const ensureDir = () => {
    if (ready) return;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    assertRootOnlyDirectory(join(dir, REQUEST), dir);
    ready = true;
  };

  function readResult<Res>(id: string): Published<Res> | undefined {
    try {
      return JSON.parse(readFileSync(join(dir, id, RESULT), 'utf8')) as Published<Res>;
    } catch (err) {
      if (isMissing(err) || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }

  function sweepIfOld(entry: string): void {
    const info = lstatSync(join(dir, entry), { throwIfNoEntry: false });
    if (info && Date.now() - info.mtimeMs > ORPHAN_AGE_MS) {
      try { rmSync(join(dir, entry), { recursive: true, force: true }); } catch { /* the next sweep */ }
    }
  }

  return {
    dir,
    async enqueue<Res>(request: unknown): Promise<Ticket<Res>> {
      ensureDir();
      const staging = join(dir, `.new-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
      mkdirSync(staging, { mode: 0o700 });
      writeFileSync(join(staging, REQUEST), JSON.stringify(request), { mode: 0o600 });
      // watched before it is visible: a result can never be published before we listen for it
      let wake: (() => void) | undefined;
      let changed = false; // an event seen while we were reading, not sleeping
      const notify = () => { changed = true; wake?.(); };
      const watcher = await watchDirectory(staging, notify, options.inotify ?? true);
      const id = newRequestId();
      try {
        renameSync(staging, join(dir, id));
      } catch (err) {
        watcher.close();
        removeRequestDir(staging);
        throw err;
      }
      return {
        id,
        poll: async () => readResult<Res>(id),
        async wait(ms) {
          const deadline = Date.now() + ms;
          for (;;) {
            changed = false;
            const found = readResult<Res>(id);
            const left = deadline - Date.now();
            if (found || left <= 0) return found;
            if (changed) continue;
            // any change in the directory wakes us (the holder's temp file too): look again until the deadline
            await new Promise<void>((resolve) => {
              const timer = setTimeout(() => { wake = undefined; resolve(); }, left);
              wake = () => { clearTimeout(timer); wake = undefined; resolve(); };
            });
          }
        },
        async close() {
          watcher.close();
          removeRequestDir(join(dir, id));
        },
      };
    },

    async pending() {
      let entries: string[];
      try { entries = readdirSync(dir); } catch (err) { if (isMissing(err)) return []; throw err; }
      const ids = entries.filter((name) => ID.test(name)).sort();
      const found = ids.map((id): QueuedRequest | undefined => {
        let text: string;
        try {
          text = readFileSync(join(dir, id, REQUEST), 'latin1');
        } catch (err) {
          if (isMissing(err)) { sweepIfOld(id); return undefined; } // applied; its hook has not read the result (yet)
          throw err;
        }
        if (text.length > MAX_REQUEST_BYTES) return { id, data: { kind: 'oversized' } };
        try {
          return { id, data: JSON.parse(Buffer.from(text, 'latin1').toString('utf8')) as unknown };
        } catch {
          return { id, data: { kind: 'unparsable' } };
        }
      });
      entries.filter((name) => name.startsWith('.new-')).forEach(sweepIfOld);
      return found.filter((entry): entry is QueuedRequest => entry !== undefined);
    },

    async hasPending() {
      let entries: string[];
      try { entries = readdirSync(dir); } catch { return false; }
      return entries.some((id) => ID.test(id) && existsSync(join(dir, id, REQUEST)));
    },

    async publish(id, published) {
      const target = join(dir, id);
      const tmp = join(target, `${RESULT}.${process.pid}`);
      try {
        writeFileSync(tmp, JSON.stringify(published), { mode: 0o600 });
        renameSync(tmp, join(target, RESULT));
        unlinkSync(join(target, REQUEST));
      } catch (err) {
        if (!isMissing(err)) throw err; // its hook gave up and removed the directory: nobody is waiting
        removeIfThere(tmp); // if it was written
        return;
      }
      const socket = join(target, WAKE_SOCKET);
      if (existsSync(socket)) await poke(socket);
    },
  };
}
