#!/bin/sh
# udhcpc event script for simulated domUs: configure the interface like a guest would and print the lease; never touches /etc.
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface" 2>/dev/null
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-32}" dev "$interface"
    for r in $router; do ip route replace default via "$r" dev "$interface" onlink; break; done
    echo "LEASE ip=$ip mask=${mask:-} router=${router:-} dns=${dns:-} domain=${domain:-} hostname=${hostname:-}"
    ;;
esac
exit 0
