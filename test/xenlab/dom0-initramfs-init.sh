#!/bin/sh
# /init of the lab dom0's initramfs: mounts the host's / (9p, read-only) under a tmpfs overlay, adds the lab kernel's
# modules, and switch_roots to the lab's dom0 init ($vndlab_init). Kernel command line: vndlab_images, vndlab_init.
export PATH=/bin
fail() { echo "VNDLAB-FATAL initramfs: $*"; echo o > /proc/sysrq-trigger; sleep 60; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p overlay; do
  insmod /lib/modules/$m.ko || fail "insmod $m"
done
mkdir -p /host /rw
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose hostroot /host || fail "mount the host's / (9p)"
mount -t tmpfs -o mode=755 overlay-rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work root /newroot || fail "overlay"
kver=$(cat "/host$vndlab_images/kernel-version") || fail "no kernel-version in $vndlab_images"
mkdir -p "/newroot/usr/lib/modules/$kver"
mount --bind "/host$vndlab_images/modules/lib/modules/$kver" "/newroot/usr/lib/modules/$kver" || fail "modules"
[ -x "/newroot$vndlab_init" ] || fail "no dom0 init at $vndlab_init"
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot "$vndlab_init"
