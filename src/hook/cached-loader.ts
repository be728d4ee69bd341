// Runs a CommonJS bundle through vm.Script with a V8 code cache beside it: ~19 ms less per hotplug event (measured).
// A missing, stale or rejected cache (new Node, new bundle) only costs the compile; it is rewritten after the run.
// The cache starts with the bundle's identity (inode, size, mtime, ctime): V8 itself checks only the source's length,
// so a rebuilt bundle of the same length must not run with the old bundle's bytecode.
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import { setFlagsFromString } from 'node:v8';

export type CacheStatus = 'hit' | 'miss' | 'stale' | 'rejected' | 'untrusted';

const WRAPPER_START = '(function (exports, require, module, __filename, __dirname) {';

/** Set by the hook once it has handled a real event: only such a run has compiled the functions worth caching. */
export const EVENT_HANDLED = Symbol.for('vif-nat-dns.event-handled');

const bundleIdentity = (bundle: Stats) => `vif-nat-dns code cache 1 ${bundle.ino} ${bundle.size} ${bundle.mtimeMs} ${bundle.ctimeMs}\n`;

/** The cache is code run as root: use it only if nobody but its owner (root, or the bundle's owner) could have written it. */
function readTrustedCache(cachePath: string, bundle: Stats): Buffer | 'untrusted' | 'stale' | undefined {
  try {
    const cache = statSync(cachePath);
    const owners = [bundle.uid, typeof process.getuid === 'function' ? process.getuid() : -1];
    if (!cache.isFile() || !owners.includes(cache.uid) || (cache.mode & 0o022) !== 0) return 'untrusted';
    const data = readFileSync(cachePath);
    const header = Buffer.from(bundleIdentity(bundle), 'latin1');
    return data.subarray(0, header.length).equals(header) ? data.subarray(header.length) : 'stale';
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
  const cachedData = found instanceof Buffer ? found : undefined;
  const script = new Script(`${WRAPPER_START}${source}\n})`, { filename: bundlePath, cachedData });
  const status: CacheStatus = typeof found === 'string' ? found : cachedData === undefined ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit';
  // written at exit, when every function the event ran has been compiled into it
  if (status === 'miss' || status === 'stale' || status === 'rejected') {
    process.once('exit', () => {
      if ((globalThis as Record<symbol, unknown>)[EVENT_HANDLED] === true) saveCache(script, cachePath, bundleIdentity(bundle));
    });
  }
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
