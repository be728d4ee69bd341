// Bundles each entry point into one CommonJS file (fast start: no module resolution at run time).
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const entries = {
  'vif-nat-dns': 'src/hook/entry.ts',
};
const optional = { sandbox: 'test/harness/demo-entry.ts', admin: 'src/cli/entry.ts', bench: 'bench/entry.ts', 'fake-xenstored': 'test/harness/fake-xenstored-entry.ts' };
import { existsSync } from 'node:fs';
for (const [name, file] of Object.entries(optional)) if (existsSync(file)) entries[name] = file;

await build({
  entryPoints: entries,
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: false,
  sourcemap: false,
  logLevel: 'warning',
  banner: { js: '#!/usr/bin/env node' },
});
for (const name of Object.keys(entries)) chmodSync(`dist/${name}.cjs`, 0o755);
