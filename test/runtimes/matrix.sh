#!/usr/bin/env bash
# The hook's integration scenarios under every supported Node runtime, each fetched once into the cache (test/harness/runtimes.ts).
# VND_RUNTIMES="debian12 node26" narrows the list. Budget: ~20 s per runtime once cached (~15 s more for a first fetch).
set -euo pipefail
cd "$(dirname "$0")/../.."
SCENARIOS=(
  test/runtimes/runtime.test.ts          # the sandbox's hook really is the runtime's installed copy
  test/integration/online-offline.test.ts # online with DHCP, DNS and NAT; idempotent online; offline twice
  test/integration/restart.test.ts        # same MAC, new MAC (lease released), crash
  test/integration/failures.test.ts       # a refused clash, ip failing half-way, full and read-only /etc, lock timeout
  test/integration/admin.test.ts          # list, doctor, regen-ethers, forget/gc, mac-for, network-nat-dns, install/uninstall
)
for runtime in ${VND_RUNTIMES:-debian12 node22 node24 node26}; do
  echo "== vif-nat-dns on runtime $runtime"
  VND_RUNTIME=$runtime npx vitest run --no-file-parallelism --testTimeout=30000 --hookTimeout=300000 "${SCENARIOS[@]}"
done
