#!/bin/sh
# /init of the lab's busybox PV guests: DHCP on every NIC netfront brings up (also NICs attached later), then, on
# eth0, a DNS lookup through the router and a TCP connection to the lan; each result printed to the console as a
# "VNDLAB <iface> <WHAT> key=value ..." line. Kernel command line: vndlab_lookup (name to resolve), vndlab_egress
# (ip:port that answers with the peer's address), vndlab_then=poweroff (power off once eth0's results are out).
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
ip link set lo up
insmod /lib/modules/xen-netfront.ko
echo "VNDLAB - BOOT id=$(cat /proc/sys/kernel/random/uuid)"

report_eth0() {
  router=$(sed -n 's/.* router=\([^ ]*\).*/\1/p' /tmp/lease.eth0)
  if [ -n "${vndlab_lookup:-}" ]; then
    answer=$(nslookup "$vndlab_lookup" "$router" 2>/dev/null | awk '/^Name:/ {named=1} named && /^Address/ {print $NF; exit}')
    echo "VNDLAB eth0 DNS name=$vndlab_lookup server=$router answer=${answer:-none}"
  fi
  if [ -n "${vndlab_egress:-}" ]; then
    seen=$(echo | nc -w 5 "${vndlab_egress%:*}" "${vndlab_egress#*:}" 2>/dev/null | head -n 1)
    echo "VNDLAB eth0 EGRESS target=$vndlab_egress seen=${seen:-none}"
  fi
  if [ "${vndlab_then:-}" = poweroff ]; then echo "VNDLAB - POWEROFF"; poweroff -f; fi
}

lease() {
  ip link set "$1" up
  # -n -q: one lease then exit (the address stays configured), retried until it comes
  # tries: udhcpc runs (each up to 10 DISCOVERs, 1 s apart) until a lease came
  tries=1
  until udhcpc -i "$1" -f -q -n -t 10 -T 1 -A 2 -s /bin/udhcpc-script > "/tmp/lease.$1" 2>/dev/null; do tries=$((tries + 1)); sleep 1; done
  echo "VNDLAB $1 $(grep -m 1 '^LEASE' "/tmp/lease.$1") tries=$tries"
  [ "$1" = eth0 ] && report_eth0
}

# NICs come and go (xl network-attach / network-detach): lease each new one once
known=" "
while :; do
  for path in /sys/class/net/eth*; do
    [ -e "$path" ] || continue
    iface=${path##*/}
    case "$known" in *" $iface "*) continue ;; esac
    known="$known$iface "
    lease "$iface" &
  done
  for iface in $known; do [ -e "/sys/class/net/$iface" ] || { known=$(echo "$known" | sed "s/ $iface / /"); echo "VNDLAB $iface GONE"; }; done
  sleep 1
done
