#!/usr/bin/env node
// Bundle entry of the hook: run main() on the process's own argv and environment, then exit with its code.
import { main } from './main';

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`vif-nat-dns: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
