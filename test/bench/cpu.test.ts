// The benchmark's per-run CPU report: what the timed script measures (orphans included), that it keeps the command's exit status and stderr.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuTimedScript, timedCpu } from '../../bench/cpu';
import { run } from '../harness/processes';

const dir = mkdtempSync(join(tmpdir(), 'vnd-bench-cpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// a child that burns about `ms` of CPU in a grandchild it waits for (the hook's ip/iptables are such grandchildren)
const burn = (ms: number) => ['/bin/sh', '-c', `${JSON.stringify(process.execPath)} -e 'const end = process.cpuUsage().user + ${ms * 1000}; while (process.cpuUsage().user < end);'`];

describe('cpuTimedScript', () => {
  it('reports the CPU of the command and of what it waited for, and nothing before it', async () => {
    const script = cpuTimedScript(dir, 'generic');
    const light = timedCpu((await run(script, ['/bin/true'])).stderr).cpuMs;
    const heavy = timedCpu((await run(script, burn(200))).stderr).cpuMs;
    expect(light).toBeLessThan(50);
    expect(heavy).toBeGreaterThanOrEqual(200);
    expect(heavy).toBeLessThan(1000);
    const sleeper = timedCpu((await run(script, ['/bin/sleep', '0.2'])).stderr);
    expect(sleeper.wallMs).toBeGreaterThanOrEqual(190); // the command's wall time, not the wrapper's start
    expect(sleeper.wallMs).toBeLessThan(1000);
    expect(sleeper.cpuMs).toBeLessThan(50);
  });

  it('counts a process the command left behind (as the hook leaves logger(1) running): the wrapper is its subreaper', async () => {
    const script = cpuTimedScript(dir, 'orphans');
    const [, , burner] = burn(200);
    const result = await run(script, ['/bin/sh', '-c', `(${burner} &); exit 0`]);
    expect(result.code).toBe(0);
    expect(timedCpu(result.stderr).cpuMs).toBeGreaterThanOrEqual(200);
  });

  it('runs its fixed target with the arguments, keeps its exit status, and hands back its stderr without the report', async () => {
    const script = cpuTimedScript(dir, 'target', '/bin/sh');
    const result = await run(script, ['-c', 'echo to-stderr >&2; exit 3']);
    expect(result.code).toBe(3);
    expect(timedCpu(result.stderr).stderr.trim()).toBe('to-stderr');
  });

  it('refuses output without a report', () => {
    expect(() => timedCpu('online vif1.0: guest 10.0.1.1\n')).toThrow(/no CPU report/);
  });
});
