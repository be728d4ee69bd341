// install / uninstall: the compiled hook and regen-ethers where Xen looks for scripts, the admin CLI, and the templates.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import writeFileAtomic from 'write-file-atomic';
import { planInstall, planUninstall, type InstallItem } from '../../core/plan-install';
import { describeError, VifError } from '../../core/errors';
import type { Command } from '../context';
import { removeFirewall } from './firewall-commands';
import { cacheFor } from '../../hook/cached-loader';

const MANIFEST = '/etc/xen/vif-nat-dns.installed.json';

interface Layout { destdir: string; prefix: string; scriptsDir: string; cacheDir: string }

/** Where the hook's bundle and loader live at run time. */
const libDir = (layout: Layout) => join(layout.prefix, 'lib', 'vif-nat-dns');
/** A run-time path as written under DESTDIR. */
const underDestdir = (layout: Layout, path: string) => join(layout.destdir || '/', path);

/** Where a file's content comes from: a file of the checkout, text made for this layout, or a file of the checkout with one line replaced. */
export type InstallSource = string | { readonly text: string } | { readonly file: string; readonly replace: readonly [string, string] };

/**
 * The installed vif script: the loader runs the hook bundle with a V8 code cache (~20 ms less per event);
 * paths are the run-time ones (no DESTDIR), the interpreter is pinned later like the other scripts. If the library is
 * gone (the Debian package removed but not purged keeps this script, a conffile), it says so in one line.
 */
export function hookScript(layout: Layout, installedBy = 'vif-nat-dns-admin install'): string {
  const lib = libDir(layout);
  const loader = JSON.stringify(join(lib, 'loader.cjs'));
  return `#!/usr/bin/env node
// Xen vif hotplug script vif-nat-dns (installed by ${installedBy}; see ${lib}).
let loader;
try { loader = require(${loader}); } catch (err) {
  if (err.code !== 'MODULE_NOT_FOUND') throw err;
  process.stderr.write('vif-nat-dns: ' + ${loader} + ' is missing: reinstall vif-nat-dns, or select another vif script\\n');
  process.exit(1);
}
loader.runCached(${JSON.stringify(join(lib, 'vif-nat-dns.cjs'))}, ${JSON.stringify(join(layout.cacheDir, 'vif-nat-dns.cache'))});
`;
}

/** What goes where: [source, target path, mode]. */
export function installSources(repo: string, layout: Layout): Array<[InstallSource, string, number]> {
  const at = (path: string) => underDestdir(layout, path);
  const lib = libDir(layout);
  return [
    [{ text: hookScript(layout) }, at(join(layout.scriptsDir, 'vif-nat-dns')), 0o755],
    [join(repo, 'dist', 'vif-nat-dns.cjs'), at(join(lib, 'vif-nat-dns.cjs')), 0o644],
    [join(repo, 'dist', 'loader.cjs'), at(join(lib, 'loader.cjs')), 0o644],
    [join(repo, 'dist', 'admin.cjs'), at(join(layout.scriptsDir, 'regen-ethers')), 0o755],
    [join(repo, 'hooks', 'network-nat-dns'), at(join(layout.scriptsDir, 'network-nat-dns')), 0o755],
    [join(repo, 'dist', 'admin.cjs'), at(join(layout.prefix, 'sbin', 'vif-nat-dns-admin')), 0o755],
    [join(repo, 'templates', 'vif-nat-dns.conf'), at('/etc/xen/vif-nat-dns.conf'), 0o644],
    [join(repo, 'templates', 'dnsmasq.conf'), at('/etc/dnsmasq.d/vif-nat-dns.conf'), 0o644],
    [join(repo, 'templates', 'vif-nat-dns-network.service'), at('/etc/systemd/system/vif-nat-dns-network.service'), 0o644],
    // the pool watcher's unit names this install's admin CLI (the template finds it through PATH, as the package's does)
    [{ file: join(repo, 'templates', 'vif-nat-dns-pool.service'), replace: [POOL_UNIT_EXEC, `ExecStart=${join(layout.prefix, 'sbin', 'vif-nat-dns-admin')} pool watch`] },
      at('/etc/systemd/system/vif-nat-dns-pool.service'), 0o644],
  ];
}

/** The template's ExecStart line, which install replaces with the installed admin's path. */
export const POOL_UNIT_EXEC = 'ExecStart=/usr/bin/env vif-nat-dns-admin pool watch';

/** A source's bytes, before the interpreter is pinned. */
export async function sourceContent(source: InstallSource): Promise<Buffer> {
  if (typeof source === 'string') return readFile(source);
  if ('text' in source) return Buffer.from(source.text);
  const text = await readFile(source.file, 'utf8');
  if (!text.split('\n').includes(source.replace[0])) throw new Error(`${source.file} has no line ${JSON.stringify(source.replace[0])}`);
  return Buffer.from(text.split('\n').map((line) => (line === source.replace[0] ? source.replace[1] : line)).join('\n'));
}

/**
 * Installed scripts name this Node by its absolute path: hotplug scripts run with the toolstack's PATH, which need
 * not contain the directory node was installed in.
 */
export function pinInterpreter(data: Buffer, node = process.execPath): Buffer {
  const text = data.toString('latin1');
  return text.startsWith('#!/usr/bin/env node\n') ? Buffer.from(`#!${node}\n${text.slice('#!/usr/bin/env node\n'.length)}`, 'latin1') : data;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function hashes(paths: readonly string[]): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  await Promise.all(paths.map(async (path) => {
    const data = await readFile(path).catch(() => undefined);
    if (data) map.set(path, sha256(data));
  }));
  return map;
}

async function readManifest(path: string): Promise<Map<string, string>> {
  const text = await readFile(path, 'utf8').catch(() => '{}');
  return new Map(Object.entries(JSON.parse(text) as Record<string, string>));
}

function layoutFrom(values: { prefix?: string; 'scripts-dir'?: string; 'cache-dir'?: string; destdir?: string }, env: NodeJS.ProcessEnv): Layout {
  return {
    destdir: values.destdir ?? env.DESTDIR ?? '', prefix: values.prefix ?? '/usr/local',
    scriptsDir: values['scripts-dir'] ?? '/etc/xen/scripts', cacheDir: values['cache-dir'] ?? '/var/cache/vif-nat-dns',
  };
}

const OPTIONS = { prefix: { type: 'string' }, 'scripts-dir': { type: 'string' }, 'cache-dir': { type: 'string' }, destdir: { type: 'string' } } as const;

export function installCommand(repo: string): Command {
  return {
    name: 'install',
    summary: 'install the hook, regen-ethers, the admin CLI and the templates (never overwriting your changes)',
    usage: `install [--prefix /usr/local] [--scripts-dir /etc/xen/scripts] [--cache-dir /var/cache/vif-nat-dns] [--destdir DIR]
        (DESTDIR= works too)

Installs: <scripts-dir>/vif-nat-dns (the hook; it runs <prefix>/lib/vif-nat-dns/vif-nat-dns.cjs with a V8 code cache
kept in <cache-dir>), <scripts-dir>/regen-ethers, <scripts-dir>/network-nat-dns,
<prefix>/sbin/vif-nat-dns-admin, /etc/xen/vif-nat-dns.conf, /etc/dnsmasq.d/vif-nat-dns.conf,
/etc/systemd/system/vif-nat-dns-network.service and /etc/systemd/system/vif-nat-dns-pool.service (the pool
watcher, running <prefix>/sbin/vif-nat-dns-admin pool watch). No unit is enabled or started: that is yours to do
(systemctl daemon-reload; systemctl enable --now vif-nat-dns-network, and vif-nat-dns-pool in a pool).
A file you changed since the last install is kept; the new version lands beside it as <file>.dist. Idempotent.
Run \`npm run build\` first.
Exit: 0 done, 1 error, 2 usage.`,
    async run(args) {
      const { values } = parseArgs({ args, options: OPTIONS, strict: true });
      if (!existsSync(join(repo, 'package.json'))) {
        throw new VifError('USAGE', `install copies a checkout's build, and ${repo} is not a vif-nat-dns checkout`,
          'this copy is installed already (from a package, or by an earlier install): upgrade the package with apt-get install ./vif-nat-dns_<version>_all.deb, or run install from a checkout', { repo });
      }
      const layout = layoutFrom(values, process.env);
      const sources = installSources(repo, layout);
      const contents = await Promise.all(sources.map(([source]) => sourceContent(source).then(pinInterpreter, (err) => {
        const what = typeof source === 'string' ? source : 'file' in source ? source.file : 'generated text';
        throw new VifError('FILE_IO', `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'run `npm ci && npm run build` in the checkout first', { source: what });
      })));
      const items: InstallItem[] = sources.map(([, target, mode], i) => ({ target, mode, hash: sha256(contents[i]!) }));
      const manifestPath = underDestdir(layout, MANIFEST);
      const manifest = await readManifest(manifestPath);
      const actions = planInstall(items, await hashes(items.map((i) => i.target)), manifest);
      for (const [i, action] of actions.entries()) {
        const target = action.kind === 'keep-changed' ? action.distPath : action.item.target;
        if (action.kind !== 'same') {
          await mkdir(dirname(target), { recursive: true });
          await writeFileAtomic(target, contents[i]!, { mode: action.item.mode });
          await chmod(target, action.item.mode);
        }
        // the .dist copy is ours too: uninstall removes it unless it was edited
        manifest.set(action.kind === 'keep-changed' ? action.distPath : action.item.target, action.item.hash);
        process.stdout.write(action.kind === 'keep-changed' ? `kept your changed ${action.item.target}; new version in ${action.distPath}\n`
          : `${action.kind === 'same' ? 'unchanged' : action.reason === 'new' ? 'installed' : 'updated'} ${action.item.target}\n`);
      }
      await mkdir(dirname(manifestPath), { recursive: true });
      await writeFileAtomic(manifestPath, `${JSON.stringify(Object.fromEntries(manifest), null, 2)}\n`);
      process.stdout.write('no unit enabled or started: systemctl daemon-reload && systemctl enable --now vif-nat-dns-network (and vif-nat-dns-pool in a pool)\n');
      return 0;
    },
  };
}

export const uninstallCommand: Command = {
  name: 'uninstall',
  summary: 'remove what install put in place, keeping files you changed',
  usage: `uninstall [--cache-dir /var/cache/vif-nat-dns] [--destdir DIR]   (DESTDIR= works too)

Removes every file install recorded in ${MANIFEST}, unless you changed it since (then it is kept and named).
Without a DESTDIR it first removes the guests' firewall (as remove-firewall does).
/etc/hosts and /etc/ethers are not touched. Exit: 0 done, 1 error, 2 usage.`,
  async run(args, context) {
    const { values } = parseArgs({ args, options: OPTIONS, strict: true });
    const layout = layoutFrom(values, process.env);
    if (!layout.destdir) {
      await removeFirewall.run([], context).catch((err) => { process.stderr.write(`could not remove the guests' firewall: ${describeError(err)}\n`); });
    }
    const manifestPath = underDestdir(layout, MANIFEST);
    const manifest = await readManifest(manifestPath);
    for (const action of planUninstall(await hashes([...manifest.keys()]), manifest)) {
      if (action.kind === 'remove') await rm(action.path, { force: true });
      process.stdout.write(`${action.kind === 'remove' ? 'removed' : action.kind === 'gone' ? 'already gone' : 'kept (changed by you)'} ${action.path}\n`);
    }
    await rm(manifestPath, { force: true });
    const cache = underDestdir(layout, join(layout.cacheDir, 'vif-nat-dns.cache'));
    for (const path of [cache, cacheFor(cache, 'offline')]) await rm(path, { force: true });
    process.stdout.write(`removed the code caches ${cache}{,.down}\n`);
    return 0;
  },
};

