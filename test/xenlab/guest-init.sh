#!/bin/sh
# /init of the lab's busybox PV guests: each NIC netfront brings up (also NICs attached later) gets its address, by
# DHCP, or with vndlab_net=xenstore by the project's guest script from what the hook published (no DHCP client at
# all); then, on eth0, a DNS lookup and a TCP connection to the lan; each result printed to the console as a
# "VNDLAB <iface> <WHAT> key=value ..." line. Kernel command line: vndlab_lookup (name to resolve), vndlab_egress
# (ip:port that answers with the peer's address), vndlab_then=poweroff (power off once eth0's results are out),
# vndlab_net=xenstore.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
ip link set lo up
insmod /lib/modules/xen-netfront.ko
echo "VNDLAB - BOOT id=$(cat /proc/sys/kernel/random/uuid)"

report_eth0() {   # $1: the DNS server to ask (empty: /etc/resolv.conf's, as the guest configured it)
  if [ -n "${vndlab_lookup:-}" ]; then
    answer=$(nslookup "$vndlab_lookup" $1 2>/dev/null | awk '/^Name:/ {named=1} named && /^Address/ {print $NF; exit}')
    echo "VNDLAB eth0 DNS name=$vndlab_lookup server=${1:-resolv.conf} answer=${answer:-none}"
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
  [ "$1" = eth0 ] && report_eth0 "$(sed -n 's/.* router=\([^ ]*\).*/\1/p' "/tmp/lease.$1")"
}

# little-endian uint32, as the xenstore wire header wants it
le32() { printf "\\$(printf %03o $(($1 & 255)))\\$(printf %03o $((($1 >> 8) & 255)))\\000\\000"; }

# One raw xenstore WRITE (type 11) of $1=$2 on the xenbus device: prints the reply's type and payload ("16:EACCES"
# is xenstored's refusal). The stock xenstore-write says only "could not write path", not why.
xs_raw_write() {
  exec 3<>/dev/xen/xenbus || { echo no-xenbus; return; }
  { le32 11; le32 7; le32 0; le32 $((${#1} + 1 + ${#2})); printf '%s' "$1"; printf '\000'; printf '%s' "$2"; } >&3
  set -- $(dd bs=4096 count=1 <&3 2>/dev/null | od -An -v -tu1)
  exec 3<&-
  [ $# -ge 16 ] || { echo short-reply; return; }
  type=$1; shift 16
  text=; for byte in "$@"; do [ "$byte" = 0 ] && break; text="$text$(printf "\\$(printf %03o "$byte")")"; done
  echo "$type:$text"
}

# The guest tries to change what dom0 published for it: xenstore-write and xenstore-rm, then the raw request.
xs_tamper() {
  node=$1/ip
  before=$(xenstore-read "$node" 2>&1)
  xenstore-write "$node" 10.255.255.254 2>/dev/null; write_exit=$?
  xenstore-rm "$node" 2>/dev/null; rm_exit=$?
  reply=$(xs_raw_write "$node" 10.255.255.254)
  after=$(xenstore-read "$node" 2>&1)
  echo "VNDLAB eth0 XSWRITE node=$node before=$before write_exit=$write_exit rm_exit=$rm_exit reply=$reply after=$after"
}

# No DHCP client: the project's guest script (templates/guest/vif-nat-dns-guest; /etc/vif-nat-dns-guest.conf says
# MAC_FALLBACK=no, so xenstore is its only source) configures the NIC; the guest reports what it ended up with.
from_xenstore() {
  vif-nat-dns-guest "$1" > "/tmp/static.$1" 2>&1; status=$?
  sed "s/^/VNDLAB-LOG $1: /" "/tmp/static.$1"
  dir=$(sed -n 's/.*(from xenstore \(vif-nat-dns\/[0-9]*\)).*/\1/p' "/tmp/static.$1")
  addr=$(ip -o -4 addr show dev "$1" | awk '{print $4; exit}')
  gateway=$(ip route show default dev "$1" | awk '{print $3; exit}')
  nameserver=$(awk '/^nameserver / {print $2; exit}' /etc/resolv.conf 2>/dev/null)
  search=$(awk '/^search / {print $2; exit}' /etc/resolv.conf 2>/dev/null)
  xenbus=none; [ -c /dev/xen/xenbus ] && xenbus=/dev/xen/xenbus
  echo "VNDLAB $1 STATIC exit=$status source=${dir:-none} addr=${addr:-none} gateway=${gateway:-none} nameserver=${nameserver:-none} search=${search:-none} hostname=$(hostname) xenbus=$xenbus script_md5=$(md5sum < /sbin/vif-nat-dns-guest | cut -d' ' -f1)"
  [ "$1" = eth0 ] || return 0
  [ -n "$dir" ] && xs_tamper "$dir"
  report_eth0 ""
}

configure=lease
[ "${vndlab_net:-dhcp}" = xenstore ] && configure=from_xenstore

# NICs come and go (xl network-attach / network-detach): configure each new one once
known=" "
while :; do
  for path in /sys/class/net/eth*; do
    [ -e "$path" ] || continue
    iface=${path##*/}
    case "$known" in *" $iface "*) continue ;; esac
    known="$known$iface "
    $configure "$iface" &
  done
  for iface in $known; do [ -e "/sys/class/net/$iface" ] || { known=$(echo "$known" | sed "s/ $iface / /"); echo "VNDLAB $iface GONE"; }; done
  sleep 1
done
