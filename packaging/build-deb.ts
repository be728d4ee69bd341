#!/usr/bin/env node
// `npm run package`: builds dist/vif-nat-dns_<version>_all.deb with dpkg-deb from the build in dist/ (contents.ts says what goes where).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { commands, repoOf } from '../src/cli/main';
import { conffilesFile, controlFile, debContents, EXTRA_DIRECTORIES, md5sumsFile, type DebEntry } from './contents';
import { adminManPage, bundledPackageDirs, changelogEntry, changelogVersion, copyrightFile, copyrightNotices, hookManPage, type BundledPackage } from './docs';

const HELP = `npm run package -- [--version V] [--out DIR]

Builds DIR/vif-nat-dns_<version>_all.deb (default: the version in package.json, DIR dist/) from the build in dist/
(npm run package runs the build first). DEBFULLNAME and DEBEMAIL name the maintainer, as for Debian's own tools.`;

const repo = repoOf(__dirname);
const read = (path: string) => readFileSync(join(repo, path));

/** The date of the checkout's last commit, so the same commit gives the same documents (else now). */
function sourceDate(): Date {
  const epoch = process.env.SOURCE_DATE_EPOCH ?? (() => {
    try { return execFileSync('git', ['-C', repo, 'log', '-1', '--format=%ct'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return ''; }
  })();
  return epoch ? new Date(Number(epoch) * 1000) : new Date();
}

/** RFC 2822 as `date -R` prints it, in UTC. */
const rfc2822 = (d: Date) => d.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) (\S+) GMT$/, (_, day, date, month, year, time) => `${day}, ${date.padStart(2, '0')} ${month} ${year} ${time} +0000`);

/** Each bundled npm package with its version, licence and copyright line, read from the node_modules the build used. */
function bundledPackages(): BundledPackage[] {
  const dirs = new Set(['vif-nat-dns.cjs', 'loader.cjs', 'admin.cjs'].flatMap((f) => bundledPackageDirs(read(join('dist', f)).toString('utf8'))));
  return [...dirs].map((dir) => {
    const abs = join(repo, dir);
    const meta = JSON.parse(readFileSync(join(abs, 'package.json'), 'utf8')) as { name: string; version: string; license: string; author?: string | { name: string } };
    const licenseFile = readdirSync(abs).find((f) => /^licen[cs]e/i.test(f));
    const licenseText = licenseFile ? readFileSync(join(abs, licenseFile), 'utf8') : undefined;
    const author = typeof meta.author === 'string' ? meta.author : meta.author?.name;
    return { name: meta.name, version: meta.version, license: meta.license, copyright: copyrightNotices(licenseText ?? '').join('\n') || author || `the ${meta.name} authors`, licenseText };
  }).sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

function changelog(version: string, maintainer: string, date: Date): string {
  const kept = read('packaging/debian/changelog').toString('utf8');
  if (changelogVersion(kept) === version) return kept;
  // a build of another version (a test's upgrade, a snapshot): say so on top of the released entries
  return `${changelogEntry({ version, changes: [`Build of vif-nat-dns ${version} from a checkout; not a release.`], maintainer, date: rfc2822(date) })}\n${kept}`;
}

function contentOf(entry: DebEntry): Buffer {
  const { source } = entry;
  const data = !('file' in source) ? Buffer.from(source.text) : source.bundle ? Buffer.from(read(source.file).toString().replace(/^#!.*\n/, '')) : read(source.file);
  return entry.gzip ? gzipSync(data, { level: 9 }) : data;
}

function build(version: string, outDir: string): string {
  const pkg = JSON.parse(read('package.json').toString('utf8')) as { version: string; license: string };
  const maintainer = `${process.env.DEBFULLNAME ?? 'vif-nat-dns developers'} <${process.env.DEBEMAIL ?? 'vif-nat-dns@example.org'}>`;
  const date = sourceDate();
  const meta = { version, date: date.toISOString().slice(0, 10) };
  const networkHelp = read('hooks/network-nat-dns').toString('utf8').split('\n').slice(1, 3).map((l) => l.replace(/^# ?/, '')).join('\n');
  const entries = debContents({
    manPages: [['vif-nat-dns-admin.8', adminManPage(commands(repo), meta)], ['vif-nat-dns.8', hookManPage(networkHelp, meta)]],
    changelog: changelog(version, maintainer, date),
    copyright: copyrightFile({ license: pkg.license, copyright: `${date.getUTCFullYear()} the vif-nat-dns developers` }, bundledPackages()),
  });

  const stage = mkdtempSync(join(tmpdir(), 'vnd-deb-'));
  try {
    chmodSync(stage, 0o755); // the package's ./ entry
    const sums: Array<[string, string]> = [];
    for (const entry of entries) {
      const target = join(stage, entry.path);
      mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
      const data = contentOf(entry);
      writeFileSync(target, data);
      chmodSync(target, entry.mode);
      sums.push([entry.path, createHash('md5').update(data).digest('hex')]);
    }
    for (const dir of EXTRA_DIRECTORIES) mkdirSync(join(stage, dir), { recursive: true, mode: 0o755 });
    const installedSizeKiB = entries.reduce((kib, e) => kib + Math.ceil(statSync(join(stage, e.path)).size / 1024), 0);
    const control = join(stage, 'DEBIAN');
    mkdirSync(control, { mode: 0o755 });
    writeFileSync(join(control, 'control'), controlFile({ version, maintainer, installedSizeKiB }), { mode: 0o644 });
    writeFileSync(join(control, 'conffiles'), conffilesFile(entries), { mode: 0o644 });
    writeFileSync(join(control, 'md5sums'), md5sumsFile(sums), { mode: 0o644 });
    for (const script of ['postinst', 'postrm']) writeFileSync(join(control, script), read(join('packaging', 'debian', script)), { mode: 0o755 });
    execFileSync('chmod', ['-R', 'go-w', stage]); // whatever the umask
    mkdirSync(outDir, { recursive: true });
    const deb = join(outDir, `vif-nat-dns_${version}_all.deb`);
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, SOURCE_DATE_EPOCH: String(Math.floor(date.getTime() / 1000)) } });
    return deb;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function main(args: string[]): number {
  const { values } = parseArgs({ args, options: { version: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) { process.stdout.write(`${HELP}\n`); return 0; }
  for (const file of ['dist/vif-nat-dns.cjs', 'dist/loader.cjs', 'dist/admin.cjs']) {
    if (!existsSync(join(repo, file))) { process.stderr.write(`package: ${file} is missing: run npm ci && npm run build first\n`); return 1; }
  }
  const version = values.version ?? (JSON.parse(read('package.json').toString('utf8')) as { version: string }).version;
  if (!/^[0-9][A-Za-z0-9.+~]*$/.test(version)) { process.stderr.write(`package: ${version} is not a Debian native version\n`); return 2; }
  const deb = build(version, values.out ?? join(repo, 'dist'));
  process.stdout.write(`${relative(process.cwd(), deb) || deb}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
