#!/bin/sh
# PID 1 of the lab's dom0 (after the initramfs switch_root): fresh /proc /sys /run /tmp, Xen's dom0 services by hand
# (what /etc/init.d/xen does), the host set up as the README tells an xl administrator, then the scenarios; powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
progress() { echo "VNDLAB-PROGRESS $*"; }
finish() { sync; echo o > /proc/sysrq-trigger; while :; do sleep 1 2>/dev/null; done; }
fatal() { echo "VNDLAB-FATAL $*"; finish; }
trap finish EXIT

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devpts -o gid=5,mode=620 devpts /dev/pts 2>/dev/null || { mkdir -p /dev/pts && mount -t devpts devpts /dev/pts; }
# a checkout under /tmp or /run (a CI's fresh clone) keeps its path across the fresh tmpfs mounts below
case "${vndlab_repo:-}" in /tmp/*|/run/*) mkdir -p /mnt/vndlab-repo && mount --bind "$vndlab_repo" /mnt/vndlab-repo ;; esac
mount -t tmpfs -o mode=755 run /run
mount -t tmpfs -o mode=1777 tmp /tmp
case "${vndlab_repo:-}" in /tmp/*|/run/*) mkdir -p "$vndlab_repo" && mount --bind /mnt/vndlab-repo "$vndlab_repo" ;; esac
mkdir -p /run/lock /run/dnsmasq /run/xen /run/xenstored /run/vndlab-results /var/log/xen/console /var/lib/xen /var/lib/misc
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /run/vndlab-results || fatal "cannot mount the results share"
hostname dom0
ip link set lo up
progress "dom0 kernel up $(cut -d' ' -f1 /proc/uptime)s"

# --- Xen's dom0 services (what /etc/init.d/xen does) ---
# tun: the device model (qemu-system-xen) opens /dev/net/tun for an HVM guest's emulated NIC (udev's static nodes
# load it on a real host)
modprobe -a xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xen-netback tun || fatal "modprobe xen modules"
mount -t xenfs xenfs /proc/xen || fatal "mount xenfs"
XENSTORED_ROOTDIR=/run/xenstored /usr/lib/xen-4.17/bin/xenstored --pid-file /run/xenstored.pid || fatal "xenstored"
i=0; until xenstore-read -s / >/dev/null 2>&1; do i=$((i + 1)); [ $i -lt 100 ] || fatal "xenstored does not answer"; sleep 0.1; done
/usr/lib/xen-4.17/bin/xen-init-dom0 >/dev/null || fatal "xen-init-dom0"
/usr/lib/xen-4.17/bin/xenconsoled --log=guest --log-dir=/var/log/xen/console || fatal "xenconsoled"
progress "xen services up $(cut -d' ' -f1 /proc/uptime)s"
xl list
xl info | grep -E 'virt_caps|free_memory|total_memory|nr_cpus|xen_scheduler'
# README "Installation on an xl host": dom0 runs every guest's backends and hotplug scripts, so under a burst of guest
# starts it must not get one guest's share of the CPUs (Xen's default weight, 256, for dom0 and each guest alike)
case "$(xl info | awk '$1 == "xen_scheduler" {print $3}')" in
  credit2) xl sched-credit2 -d Domain-0 -w "${vndlab_dom0_weight:-4096}" ;;
  credit) xl sched-credit -d Domain-0 -w "${vndlab_dom0_weight:-4096}" ;;
esac || fatal "dom0's scheduler weight"

# --- the host, set up as README.md tells an xl administrator ---
[ -d "${vndlab_repo:-}" ] || fatal "vndlab_repo (the checkout) is not a directory: ${vndlab_repo:-unset}"
export PATH="$PATH:${vndlab_node_dir:-/usr/bin}"
busybox syslogd -O /var/log/messages || fatal "syslogd"   # a /dev/log like a real host's (dnsmasq and the hook log there)

# dom0's uplink: a veth to a "lan" namespace with a peer that echoes each connection's source address
LAN_IP=192.0.2.2 LAN_PORT=8080 UPLINK_IP=192.0.2.1
ip netns add lan
ip link add eth0 type veth peer name eth0 netns lan
ip addr add $UPLINK_IP/24 dev eth0 && ip link set eth0 up && ip route add default via $LAN_IP || fatal "uplink"
ip -n lan addr add $LAN_IP/24 dev eth0 && ip -n lan link set eth0 up && ip -n lan link set lo up || fatal "lan side"
ip netns exec lan node "$vndlab_repo/test/harness/echo-peer.cjs" $LAN_IP $LAN_PORT > /run/echo-peer.log 2>&1 &

# README "Installation on an xl host": the Debian package, installed with apt as an administrator installs it. dpkg's
# and apt's writes land in dom0's overlay (a tmpfs): the host's / is shared read-only. dom0 has no network, so apt
# gets no repositories: the dependencies must be installed already, as they would have to be anyway, and apt does
# not spend ~20 s (under TCG) parsing this machine's package lists.
install_vif_nat_dns() {
  rm -f /var/lib/man-db/auto-update   # man-db's trigger would rebuild its whole index under TCG for nothing
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 \
    -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/dev/null "${vndlab_deb:?the lab passes the .deb}"
}
install_vif_nat_dns > /run/vndlab-install.log 2>&1 || { cat /run/vndlab-install.log; fatal "apt-get install $vndlab_deb"; }
progress "package installed (apt-get install ./${vndlab_deb##*/}) $(cut -d' ' -f1 /proc/uptime)s"
# dnsmasq as Debian's dnsmasq package starts it (/etc/init.d/dnsmasq, systemd unit)
dnsmasq -x /run/dnsmasq/dnsmasq.pid -u dnsmasq -7 /etc/dnsmasq.d,.dpkg-dist,.dpkg-old,.dpkg-new --local-service || fatal "dnsmasq"
/etc/xen/scripts/network-nat-dns start > /run/network-nat-dns.log 2>&1 || { cat /run/network-nat-dns.log; fatal "network-nat-dns start"; }
progress "host set up (apt-get install of the package, dnsmasq, network-nat-dns, uplink) $(cut -d' ' -f1 /proc/uptime)s"

export VNDLAB_LAN="$LAN_IP:$LAN_PORT" VNDLAB_UPLINK_IP=$UPLINK_IP VNDLAB_RESULTS=/run/vndlab-results
# --- the scenarios (test/xenlab/dom0/scenarios.ts), with the real xl; results on the results share ---
progress "scenarios: $vndlab_scenarios"
node "$vndlab_repo/dist/xenlab-dom0.cjs" $(echo "$vndlab_scenarios" | tr + ' ') || echo "VNDLAB-FATAL scenario runner exited $?"
progress "powering off"
