// Scenario runner inside the lab's dom0 (dist/xenlab-dom0.cjs): runs the named scenarios in order, rewrites
// results.json on the results share after each, and copies the guests' consoles and xl's logs there at the end.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOGS_DIR, RESULTS_FILE, type LabResults, type ScenarioResult } from '../results';
import { scenarios, type ScenarioName } from './scenarios';

const LOG_SOURCES = ['/var/log/xen', '/var/log/messages', '/run/vndlab-configs'];

function copyLogs(dir: string): void {
  const logs = join(dir, LOGS_DIR);
  mkdirSync(logs, { recursive: true });
  for (const source of LOG_SOURCES) {
    if (!existsSync(source)) continue;
    const name = source.slice(1).replaceAll('/', '_');
    try { cpSync(source, join(logs, name), { recursive: true }); } catch (err) { writeFileSync(join(logs, `${name}.error`), String(err)); }
  }
}

async function main(): Promise<number> {
  const dir = process.env.VNDLAB_RESULTS ?? '/run/vndlab-results';
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in scenarios));
  if (names.length === 0 || unknown.length > 0) {
    process.stderr.write(`usage: xenlab-dom0 <scenario>...  (known: ${Object.keys(scenarios).join(', ')}; unknown: ${unknown.join(', ')})\n`);
    return 2;
  }
  const results: ScenarioResult[] = [];
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const save = (finished: boolean) => {
    const out: LabResults = { dom0UptimeAtStartS: uptime, scenarios: results, finished };
    writeFileSync(join(dir, RESULTS_FILE), `${JSON.stringify(out, null, 1)}\n`);
  };
  try {
    for (const name of names as ScenarioName[]) {
      process.stdout.write(`VNDLAB-PROGRESS scenario ${name} ...\n`);
      const started = Date.now();
      let outcome: { data?: unknown; error?: string };
      try {
        outcome = { data: await scenarios[name]() };
      } catch (err) {
        outcome = { error: err instanceof Error ? err.stack ?? err.message : String(err) };
      }
      const result: ScenarioResult = { name, ms: Date.now() - started, ...outcome };
      results.push(result);
      process.stdout.write(`VNDLAB-PROGRESS scenario ${name} ${result.error ? 'FAILED' : 'done'} in ${(result.ms / 1000).toFixed(1)} s\n`);
      save(false);
      copyLogs(dir);
    }
    save(true);
  } finally {
    copyLogs(dir);
  }
  return 0;
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`xenlab-dom0: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
