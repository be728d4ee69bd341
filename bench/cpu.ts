// CPU time of the processes the benchmark ran (user+sys, their children included), and the hook built with execa for the runner A/B.
import { readFileSync, mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../test/harness/sandbox';
import { check } from '../test/harness/processes';

const TICK_MS = 10; // USER_HZ = 100 on Linux

/**
 * CPU (ms) of every child this process has waited for, with their own waited-for children (cutime + cstime of
 * /proc/self/stat): a storm's hooks, the ip/iptables they ran, all counted. 10 ms ticks: meaningful over many events.
 */
export function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

const CPU_MARK = 'vnd-bench-cpu';

/**
 * A script that runs `target` (or, without one, its arguments) and reports, at the end of its stderr, the CPU that command
 * used: bash's `times` for its waited-for children (user and sys, ms resolution, from wait4's rusage), so the hook and the
 * ip/iptables it ran are counted, per run, and nothing else (not nsenter, not bash itself).
 */
export function cpuTimedScript(dir: string, name: string, target?: string): string {
  mkdirSync(dir, { recursive: true });
  const script = join(dir, `timed-${name}`);
  const command = target === undefined ? '"$@"' : `${JSON.stringify(target)} "$@"`;
  writeFileSync(script, ['#!/bin/bash', command, 'status=$?', `printf '${CPU_MARK} ' >&2`, 'times >&2', 'exit $status', ''].join('\n'), { mode: 0o755 });
  return script;
}

/** The CPU (ms, user+sys) a cpuTimedScript's command used, from its stderr; and that stderr without the report. */
export function timedCpu(stderr: string): { cpuMs: number; stderr: string } {
  // `times` prints the shell's own user and sys times, then its children's: "0m0.001s 0m0.000s\n0m0.052s 0m0.017s"
  const match = new RegExp(`${CPU_MARK} \\S+ \\S+\\n(\\d+)m([\\d.]+)s (\\d+)m([\\d.]+)s\\s*$`).exec(stderr);
  if (!match) throw new Error(`no CPU report at the end of the timed command's stderr: ${stderr.slice(-300)}`);
  const [userMin, userS, sysMin, sysS] = match.slice(1).map(Number) as [number, number, number, number];
  return { cpuMs: (userMin * 60 + userS + sysMin * 60 + sysS) * 1000, stderr: stderr.slice(0, match.index) };
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
  // pinned to this Node, as `vif-nat-dns-admin install` pins the hook it installs
  writeFileSync(script, `#!${process.execPath}\nconst path = require('path');\nrequire(path.join(__dirname, 'loader.cjs')).runCached(path.join(__dirname, 'vif-nat-dns.cjs'), path.join(__dirname, 'vif-nat-dns.cache'));\n`, { mode: 0o755 });
  return script;
}
