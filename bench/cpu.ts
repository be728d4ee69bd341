// CPU time of the processes the benchmark ran (user+sys, their children included), and the hook built with execa for the runner A/B.
import { readFileSync, mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../test/harness/sandbox';
import { check } from '../test/harness/processes';

const TICK_MS = 10; // USER_HZ = 100 on Linux

/**
 * CPU (ms) of every child this process has waited for, with their own waited-for children (cutime + cstime of
 * /proc/self/stat): a hook, the ip/iptables it ran, all counted. 10 ms ticks: meaningful over many events.
 */
export function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

/** CPU of `fn`'s children, divided by `events`. */
export async function cpuPerEvent(events: number, fn: () => Promise<void>): Promise<number> {
  const before = childrenCpuMs();
  await fn();
  return (childrenCpuMs() - before) / events;
}

/**
 * The hook built exactly as `npm run build` builds it but with HOOK_RUNNER="execa" (ip/iptables through execa, as before
 * the A/B), in its own directory with its own code cache; returns its hook script.
 */
export async function buildExecaHook(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  // esbuild's CLI (its JS API cannot run from inside this bundle), with the build script's options
  await check(join(REPO, 'node_modules', '.bin', 'esbuild'), [`vif-nat-dns=${join(REPO, 'src/hook/entry.ts')}`, '--bundle', '--platform=node', '--target=node18',
    '--format=cjs', `--outdir=${dir}`, '--out-extension:.js=.cjs', '--define:HOOK_RUNNER="execa"',
    `--alias:signal-exit=${join(REPO, 'src/hook/shims/signal-exit.ts')}`, `--alias:graceful-fs=${join(REPO, 'src/hook/shims/graceful-fs.ts')}`, '--log-level=warning']);
  copyFileSync(join(REPO, 'dist', 'loader.cjs'), join(dir, 'loader.cjs'));
  const script = join(dir, 'vif-nat-dns');
  writeFileSync(script, `#!/usr/bin/env node\nconst path = require('path');\nrequire(path.join(__dirname, 'loader.cjs')).runCached(path.join(__dirname, 'vif-nat-dns.cjs'), path.join(__dirname, 'vif-nat-dns.cache'));\n`, { mode: 0o755 });
  return script;
}
