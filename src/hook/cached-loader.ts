// Runs a CommonJS bundle through vm.Script with a V8 code cache beside it: ~19 ms less per hotplug event (measured).
// A missing, stale or rejected cache (new Node, new bundle) only costs the compile; it is rewritten after the run.
// The cache starts with the bundle's identity (inode, size, mtime, ctime): V8 itself checks only the source's length,
// so a rebuilt bundle of the same length must not run with the old bundle's bytecode. Then the parts of an event the
// cache has seen compiled (applied, waited): a hook that played a part the cache lacks rewrites it with both.
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import { setFlagsFromString } from 'node:v8';

export type CacheStatus = 'hit' | 'miss' | 'stale' | 'rejected' | 'untrusted';

const WRAPPER_START = '(function (exports, require, module, __filename, __dirname) {';

/**
 * Set by the hook once it has handled a real event, to the part it played: 'applied' (it held the lock and applied a
 * batch) or 'waited' (another hook applied its request). Only such a run has compiled the functions worth caching, and
 * each part compiles code the other does not: an online run with a cache a waiter wrote (156 instead of 206 KB) cost
 * 3.5 ms more CPU [0.9, 6.3] than with one a holder wrote (scratch A/B, 40 interleaved onlines) — after an install
 * followed by a storm, every later online paid it.
 */
export const EVENT_HANDLED = Symbol.for('vif-nat-dns.event-handled');
export type EventRole = 'applied' | 'waited';

const bundleIdentity = (bundle: Stats) => `vif-nat-dns code cache 2 ${bundle.ino} ${bundle.size} ${bundle.mtimeMs} ${bundle.ctimeMs} `;

interface TrustedCache {
  readonly data: Buffer; // V8's
  readonly roles: ReadonlySet<string>; // the parts of an event whose functions it holds
  readonly file: string; // inode and mtime: whether another hook has replaced it since
}

/** The cache is code run as root: use it only if nobody but its owner (root, or the bundle's owner) could have written it. */
function readTrustedCache(cachePath: string, bundle: Stats): TrustedCache | 'untrusted' | 'stale' | undefined {
  try {
    const cache = statSync(cachePath);
    const owners = [bundle.uid, typeof process.getuid === 'function' ? process.getuid() : -1];
    if (!cache.isFile() || !owners.includes(cache.uid) || (cache.mode & 0o022) !== 0) return 'untrusted';
    const data = readFileSync(cachePath);
    const end = data.indexOf(10);
    const line = data.subarray(0, Math.max(0, end)).toString('latin1');
    const identity = bundleIdentity(bundle);
    if (end < 0 || !line.startsWith(identity)) return 'stale';
    return { data: data.subarray(end + 1), roles: new Set(line.slice(identity.length).split(',').filter(Boolean)), file: `${cache.ino} ${cache.mtimeMs}` };
  } catch {
    return undefined;
  }
}

/**
 * V8's memory reducer gives a process that lives past 8 s up to three full collections it does not need: a hook waiting in
 * a storm paid ~20 ms of CPU for them (bench/). Set before the compile: V8 hashes its flags into the code cache, so the cache
 * written at exit matches the next run's (a cache from a run without the flag is rejected once, then rewritten).
 */
export const RUNTIME_V8_FLAGS = '--no-memory-reducer-for-small-heaps';

/**
 * Node's own modules that the hook's bundle loads, loaded before the flag is set: Node's embedded code cache for its modules
 * carries the flags' hash too, and a module loaded after the change is compiled from source (+5 ms an event when assert and
 * streams were). test/hook/cached-loader.test.ts checks that the bundle loads nothing else.
 */
export const HOOK_BUILTINS: readonly string[] = ['node:child_process', 'node:net'];

/**
 * The cache for this run's event: an online and an offline run different code, and a cache holds what its event compiled.
 * With one cache, whatever event came first after an install decided it: after an offline, every online compiled its own
 * functions again (+2 ms an online, measured). Up events (online, add) use `cachePath`; down events `<cachePath>.down`.
 */
export function cacheFor(cachePath: string, command: string | undefined): string {
  return command === 'offline' || command === 'remove' ? `${cachePath}.down` : cachePath;
}

/** Run the bundle at `bundlePath` with the code cache at `basePath` (down events: beside it, see cacheFor). */
export function runCached(bundlePath: string, basePath: string): CacheStatus {
  const cachePath = cacheFor(basePath, process.argv[2]);
  for (const name of HOOK_BUILTINS) require(name);
  setFlagsFromString(RUNTIME_V8_FLAGS);
  // identity and text from one open file: a bundle replaced in between cannot pair new text with the old cache
  const fd = openSync(bundlePath, 'r');
  let bundle: Stats;
  let source: string;
  try {
    bundle = fstatSync(fd);
    source = readFileSync(fd, 'utf8').replace(/^#!.*/, '');
  } finally {
    closeSync(fd);
  }
  const found = readTrustedCache(cachePath, bundle);
  const cachedData = typeof found === 'object' ? found.data : undefined;
  const script = new Script(`${WRAPPER_START}${source}\n})`, { filename: bundlePath, cachedData });
  const status: CacheStatus = typeof found === 'string' ? found : cachedData === undefined ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit';
  // written at exit, when every function the event ran has been compiled into it: after a hit, what the cache held
  // (deserialised) and what this run compiled on top, so the cache grows to every part once and is then left alone
  const held = status === 'hit' && typeof found === 'object' ? found.roles : new Set<string>();
  process.once('exit', () => {
    const role = (globalThis as Record<symbol, unknown>)[EVENT_HANDLED];
    if ((role !== 'applied' && role !== 'waited') || held.has(role)) return;
    const roles = new Set([...held, role]);
    // the hooks of one storm all start without it: one another hook wrote since, covering what this run would write, is kept
    const now = readTrustedCache(cachePath, bundle);
    const replaced = typeof now === 'object' && now.file !== (typeof found === 'object' ? found.file : undefined);
    if (replaced && [...roles].every((r) => now.roles.has(r))) return;
    saveCache(script, cachePath, `${bundleIdentity(bundle)}${[...roles].sort().join(',')}\n`);
  });
  const module = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(module.exports, require, module, bundlePath, dirname(bundlePath));
  return status;
}

function saveCache(script: Script, cachePath: string, identity: string): void {
  const tmp = `${cachePath}.${process.pid}`;
  try {
    mkdirSync(dirname(cachePath), { recursive: true, mode: 0o755 });
    // O_EXCL: never through a planted link
    writeFileSync(tmp, Buffer.concat([Buffer.from(identity, 'latin1'), script.createCachedData()]), { mode: 0o644, flag: 'wx' });
    renameSync(tmp, cachePath);
  } catch {
    // best effort: a read-only or full filesystem only means the next event compiles again
  }
}
