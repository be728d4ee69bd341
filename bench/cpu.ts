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

/** The wrapper: a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so a process the command left behind is reaped, and counted, by it. */
const SUBREAPER = `import ctypes, os, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
command = sys.argv[1:]
started = time.monotonic()
pid = os.fork()
if pid == 0:
    os.execvp(command[0], command)
total, code, wall = 0.0, 1, 0.0
while True:
    try:
        reaped, status, usage = os.wait4(-1, 0)
    except ChildProcessError:
        break
    total += usage.ru_utime + usage.ru_stime
    if reaped == pid:
        code = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
sys.stderr.write("${CPU_MARK} %.3f %.3f\\n" % (total * 1000, wall * 1000))
sys.exit(code if code >= 0 else 128 - code)
`;

/**
 * A script that runs `target` (or, without one, its arguments) and reports, at the end of its stderr, the CPU that command
 * used: user+sys of it and of every process it started (ip, iptables-restore, and a logger(1) it did not wait for: the
 * wrapper is their subreaper), from wait4, per run; the wrapper's own CPU (python) is not counted, nor nsenter's.
 */
export function cpuTimedScript(dir: string, name: string, target?: string): string {
  mkdirSync(dir, { recursive: true });
  const wrapper = join(dir, 'subreaper.py');
  writeFileSync(wrapper, SUBREAPER);
  const script = join(dir, `timed-${name}`);
  const command = target === undefined ? '"$@"' : `${JSON.stringify(target)} "$@"`;
  writeFileSync(script, ['#!/bin/sh', `exec /usr/bin/python3 ${JSON.stringify(wrapper)} ${command}`, ''].join('\n'), { mode: 0o755 });
  return script;
}

/**
 * The CPU (ms, user+sys) a cpuTimedScript's command used and its wall time (start to exit, measured by the wrapper: not
 * the wrapper's own start), from its stderr; and that stderr without the report.
 */
export function timedCpu(stderr: string): { cpuMs: number; wallMs: number; stderr: string } {
  const match = new RegExp(`${CPU_MARK} ([\\d.]+) ([\\d.]+)\\n$`).exec(stderr);
  if (!match) throw new Error(`no CPU report at the end of the timed command's stderr: ${stderr.slice(-300)}`);
  return { cpuMs: Number(match[1]), wallMs: Number(match[2]), stderr: stderr.slice(0, match.index) };
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
