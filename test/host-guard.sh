#!/usr/bin/env bash
# Runs a command (the test suite) and fails if it changed this machine's /etc/hosts, /etc/ethers, routes, links, firewall or dpkg database.
set -uo pipefail
snapshot() {
  for f in /etc/hosts /etc/ethers; do echo "== $f"; if [ -e "$f" ]; then sha256sum < "$f"; else echo absent; fi; done
  echo "== routes"; ip -4 route show table all 2>&1; ip -6 route show table all 2>&1
  echo "== links"; ip -o link show 2>&1 | awk '{print $2}'
  echo "== addresses"; ip -o addr show 2>&1 | awk '{print $2, $3, $4}'
  echo "== netns"; ip netns list 2>&1
  echo "== iptables"; iptables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9:]*\]//'
  echo "== forwarding"; cat /proc/sys/net/ipv4/ip_forward
  echo "== dpkg"; sha256sum < /var/lib/dpkg/status; ls /var/lib/dpkg/info | sha256sum
}
before=$(mktemp); after=$(mktemp)
trap 'rm -f "$before" "$after"' EXIT
snapshot > "$before"
"$@"; status=$?
snapshot > "$after"
if ! diff -u "$before" "$after"; then
  echo "host-guard: the tests changed this machine's state (diff above)" >&2
  exit 1
fi
echo "host-guard: /etc/hosts, /etc/ethers, routes, links, addresses, netns, iptables and the dpkg database unchanged"
exit $status
