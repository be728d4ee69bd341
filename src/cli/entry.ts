#!/usr/bin/env node
// Bundle entry of the admin CLI (and of regen-ethers, which is the same file under another name).
import { main, repoOf } from './main';

main(process.argv[1] ?? 'vif-nat-dns-admin', process.argv.slice(2), process.env, repoOf(__dirname)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`vif-nat-dns-admin: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
