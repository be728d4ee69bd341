// The real-Xen lab, from the host: builds (or reuses) the images, boots Xen in QEMU, streams dom0's progress, returns
// dom0's results and logs; QEMU is always killed and its temp directory removed, and the whole run has a time limit.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { check } from '../harness/processes';
import { REPO } from '../harness/sandbox';
import { qemuArgs } from './qemu';
import { LOGS_DIR, RESULTS_FILE, type LabResults } from './results';

export const BUILD_IMAGES = join(REPO, 'test', 'xenlab', 'build-images.sh');
const DOM0_INIT = join(REPO, 'test', 'xenlab', 'dom0-init.sh');
export const XEN_PACKAGES = 'xen-hypervisor-4.17-amd64 xen-utils-4.17 qemu-system-x86 qemu-system-xen kmod cpio';

export interface LabOptions {
  readonly scenarios: readonly string[];
  readonly timeoutMs?: number; // the whole run: images, boot, scenarios, power-off
  readonly parallelGuests?: number;
  readonly onProgress?: (event: ProgressEvent) => void;
}

export interface ProgressEvent { readonly atMs: number; readonly text: string }

export interface LabRun {
  readonly results?: LabResults;
  readonly logs: Record<string, string>; // dom0's /var/log/xen (guest consoles, xl-<name>.log), /var/log/messages, guest configs
  readonly serial: string; // Xen's and dom0's console
  readonly progress: ProgressEvent[]; // host-clock milestones, from QEMU's start
  readonly imagesMs: number;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
}

/** What the lab needs from this machine, as lines an administrator can act on. */
export function missingLabRequirements(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('run as root (the image build unpacks packages; QEMU shares / with dom0)');
  const missing = ['/usr/bin/qemu-system-x86_64', '/usr/libexec/xen-qemu-system-i386', '/boot/xen-4.17-amd64.gz', '/usr/sbin/xl', '/usr/bin/cpio', '/usr/sbin/depmod'].filter((p) => !existsSync(p));
  if (missing.length > 0) problems.push(`missing ${missing.join(', ')}: apt-get install -y --no-install-recommends ${XEN_PACKAGES}`);
  // dom0 (no network) installs the package with apt: its dependencies must be installed packages here
  const nodejs = spawnSync('dpkg-query', ['-W', '-f', '${Status} ${Version}', 'nodejs'], { encoding: 'utf8' }).stdout ?? '';
  if (!nodejs.startsWith('install ok installed ')) problems.push('Node is not installed as Debian\'s nodejs package (>= 18.19): dom0 installs the .deb with apt and has no network');
  for (const built of ['vif-nat-dns.cjs', 'xenlab-dom0.cjs', 'package.cjs']) {
    try { accessSync(join(REPO, 'dist', built), constants.R_OK); } catch { problems.push(`dist/${built} is missing: npm run build`); }
  }
  return problems;
}

/** The cached images (build-images.sh builds them the first time, from Debian's packages). */
export async function ensureImages(): Promise<string> {
  const result = await check(BUILD_IMAGES, [], { timeoutMs: 600_000 });
  return result.stdout.trim().split('\n').at(-1)!;
}

const MILESTONES: ReadonlyArray<[RegExp, (m: RegExpMatchArray) => string]> = [
  [/\(XEN\) Xen version (\S+)/, (m) => `Xen ${m[1]} started`],
  [/^\[\s*[\d.]+\] Linux version (\S+)/m, (m) => `dom0 kernel ${m[1]} booting`],
  [/^VNDLAB-PROGRESS (.*)$/m, (m) => m[1]!],
  [/^VNDLAB-FATAL (.*)$/m, (m) => `FATAL: ${m[1]}`],
  [/\(XEN\) Entering ACPI S5 state/, () => 'powered off'],
];

function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = readFileSync(path, 'utf8');
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** The Debian package (`npm run package`'s build) written into `dir`; returns its file name. */
async function buildDeb(dir: string): Promise<string> {
  return basename((await check(process.execPath, [join(REPO, 'dist', 'package.cjs'), '--out', dir])).stdout.trim());
}

export async function runLab(options: LabOptions): Promise<LabRun> {
  const deadline = Date.now() + (options.timeoutMs ?? 900_000);
  const imagesStarted = Date.now();
  const images = await ensureImages();
  const imagesMs = Date.now() - imagesStarted;
  const resultsDir = mkdtempSync(join(tmpdir(), 'vnd-xenlab-'));
  try {
    // dom0 installs the package as README's installation says (apt-get install ./vif-nat-dns_*.deb); it sees
    // resultsDir as /run/vndlab-results
    const deb = await buildDeb(resultsDir);
    const dom0Env: Record<string, string> = {
      vndlab_deb: `/run/vndlab-results/${deb}`,
      vndlab_images: images, vndlab_repo: REPO, vndlab_init: DOM0_INIT, vndlab_node_dir: dirname(process.execPath),
      vndlab_scenarios: options.scenarios.join('+'),
    };
    if (options.parallelGuests) dom0Env.vndlab_parallel = String(options.parallelGuests);
    if (process.env.VND_XENLAB_DOM0_WEIGHT) dom0Env.vndlab_dom0_weight = process.env.VND_XENLAB_DOM0_WEIGHT; // for an A/B of dom0's weight
    const args = qemuArgs({ images, resultsDir, memoryMiB: 3072, dom0MemoryMiB: 1024, dom0Env });
    return { ...(await bootQemu(args, resultsDir, deadline, options)), imagesMs };
  } finally {
    rmSync(resultsDir, { recursive: true, force: true });
  }
}

/** Runs QEMU to its end (or the deadline: then killed), streaming milestones; reads what dom0 left in resultsDir. */
async function bootQemu(args: string[], resultsDir: string, deadline: number, options: LabOptions): Promise<Omit<LabRun, 'imagesMs'>> {
  const started = Date.now();
  const progress: ProgressEvent[] = [];
  let serial = '';
  let pending = '';
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const onLine = (line: string) => {
    for (const [pattern, describe] of MILESTONES) {
      const match = line.match(pattern);
      if (!match) continue;
      const event = { atMs: Date.now() - started, text: describe(match) };
      progress.push(event);
      options.onProgress?.(event);
    }
  };
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    serial += text;
    pending += text;
    const lines = pending.split(/\r?\n/);
    pending = lines.pop()!;
    for (const line of lines) onLine(line);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, Math.max(deadline - Date.now(), 1000));
  try {
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
    if (timedOut) options.onProgress?.({ atMs: Date.now() - started, text: `TIMED OUT: QEMU killed after ${options.timeoutMs ?? 900_000} ms` });
    const resultsPath = join(resultsDir, RESULTS_FILE);
    const results = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as LabResults) : undefined;
    return { results, logs: readTree(join(resultsDir, LOGS_DIR)), serial, progress, exitCode, timedOut };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
