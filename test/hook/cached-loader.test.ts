// The code-cache loader: miss writes a cache after a real event, then hits; a corrupt or untrusted cache is never fatal.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const LOADER = join(__dirname, '..', '..', 'dist', 'loader.cjs');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vnd-cache-'));
  // a stand-in bundle: says it ran, and marks the event handled (with the part it played: applied, waited) when asked to
  writeFileSync(join(dir, 'bundle.cjs'), "#!/usr/bin/env node\nconsole.log('ran ' + __filename.length);\nif (process.env.HANDLED) globalThis[Symbol.for('vif-nat-dns.event-handled')] = process.env.HANDLED;\n");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function load(env: Record<string, string> = {}, command?: string): { status: string; out: string } {
  const script = `const s = require(${JSON.stringify(LOADER)}).runCached(${JSON.stringify(join(dir, 'bundle.cjs'))}, ${JSON.stringify(join(dir, 'c', 'bundle.cache'))}); console.log('status ' + s);`;
  // as the hook script runs it: the event's command is argv[2] (argv[1] stands for the script)
  const out = execFileSync(process.execPath, ['-e', script, ...(command ? ['vif-nat-dns', command] : [])], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  return { status: /status (\w+)/.exec(out)![1]!, out };
}

describe('cached loader (needs npm run build)', () => {
  it('writes the cache only after a handled event, then uses it', () => {
    expect(load().status).toBe('miss');
    expect(existsSync(join(dir, 'c', 'bundle.cache'))).toBe(false);
    expect(load({ HANDLED: 'applied' }).status).toBe('miss');
    expect(existsSync(join(dir, 'c', 'bundle.cache'))).toBe(true);
    const hit = load();
    expect(hit.status).toBe('hit');
    expect(hit.out).toContain('ran ');
  });

  it('a cache a waiting hook wrote is completed once by a hook that applied a batch; a complete one is left alone', () => {
    const cache = join(dir, 'c', 'bundle.cache');
    const parts = () => /code cache 2 (?:\S+ ){4}(\S*)\n/.exec(readFileSync(cache, 'latin1'))?.[1];
    expect(load({ HANDLED: 'waited' }).status).toBe('miss');
    expect(parts()).toBe('waited');
    expect(load({ HANDLED: 'waited' }).status).toBe('hit');
    const before = readFileSync(cache);
    expect(load({ HANDLED: 'waited' }).status).toBe('hit'); // nothing new: not rewritten
    expect(readFileSync(cache).equals(before)).toBe(true);
    expect(load({ HANDLED: 'applied' }).status).toBe('hit');
    expect(parts()).toBe('applied,waited'); // what it deserialised and what it compiled
    const complete = readFileSync(cache);
    for (const part of ['applied', 'waited']) expect(load({ HANDLED: part }).status).toBe('hit');
    expect(readFileSync(cache).equals(complete)).toBe(true);
  });

  it('a corrupt cache is rejected, the bundle still runs, and the cache is rewritten', () => {
    load({ HANDLED: 'applied' });
    const cache = readFileSync(join(dir, 'c', 'bundle.cache'));
    const header = cache.subarray(0, cache.indexOf(10) + 1); // the bundle's identity line stays, V8's data is garbage
    writeFileSync(join(dir, 'c', 'bundle.cache'), Buffer.concat([header, Buffer.from('garbage')]));
    const rejected = load({ HANDLED: 'applied' });
    expect(rejected.status).toBe('rejected');
    expect(rejected.out).toContain('ran ');
    expect(load().status).toBe('hit');
  });

  it('a rebuilt bundle of the same length never runs with the old cache (V8 checks only the length)', () => {
    load({ HANDLED: 'applied' });
    expect(load().status).toBe('hit');
    const bundle = join(dir, 'bundle.cjs');
    const rebuilt = readFileSync(bundle, 'utf8').replace("'ran '", "'new '");
    writeFileSync(`${bundle}.new`, rebuilt);
    renameSync(`${bundle}.new`, bundle); // as install and esbuild replace it
    const stale = load({ HANDLED: 'applied' });
    expect(stale.status).toBe('stale');
    expect(stale.out).toContain('new ');
    expect(load().out).toContain('new ');
  });

  it('a cache others could have written is not used', () => {
    load({ HANDLED: 'applied' });
    chmodSync(join(dir, 'c', 'bundle.cache'), 0o666);
    expect(load().status).toBe('untrusted');
  });

  it('the hook\'s bundle loads no Node module after the loader changed V8\'s flags (it would compile without Node\'s code cache)', () => {
    const nodeModulesAfterV8 = (code: string): string[] => {
      const script = `process.on('exit', () => { const list = process.moduleLoadList; console.log(JSON.stringify(list.slice(list.lastIndexOf('NativeModule v8') + 1))); });
        const loader = require(${JSON.stringify(LOADER)}); ${code}`;
      const out = execFileSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
      return (JSON.parse(out.trim().split('\n').pop()!) as string[]).filter((m) => m.startsWith('NativeModule'));
    };
    const preloaded = nodeModulesAfterV8('for (const name of loader.HOOK_BUILTINS) require(name);');
    expect(preloaded).toContain('NativeModule child_process');
    // --help evaluates the whole bundle (every module's top level) and exits
    const loadedByHook = nodeModulesAfterV8(`process.argv = [process.argv[0], 'vif-nat-dns', '--help'];
      loader.runCached(${JSON.stringify(join(__dirname, '..', '..', 'dist', 'vif-nat-dns.cjs'))}, ${JSON.stringify(join(dir, 'c', 'hook.cache'))});`);
    expect(loadedByHook.filter((m) => !preloaded.includes(m))).toEqual([]);
  });

  it('an offline\'s cache is kept apart from an online\'s: neither event runs with what the other compiled', () => {
    expect(load({ HANDLED: 'applied' }, 'offline').status).toBe('miss');
    expect(existsSync(join(dir, 'c', 'bundle.cache.down'))).toBe(true);
    expect(existsSync(join(dir, 'c', 'bundle.cache'))).toBe(false);
    expect(load({ HANDLED: 'applied' }, 'online').status).toBe('miss');
    expect(load({}, 'online').status).toBe('hit');
    expect(load({}, 'add').status).toBe('hit');
    expect(load({}, 'remove').status).toBe('hit');
  });
});
