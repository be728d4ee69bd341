#!/usr/bin/env bash
# Builds the real-Xen lab's boot images from Debian's packages only, once, into a cache keyed by package versions.
# Usage: build-images.sh [--print-dir]   (env VNDLAB_CACHE, default /var/cache/vif-nat-dns-lab)
# Prints the image directory: xen.elf, vmlinuz (dom0), vmlinux (guests), dom0-initrd.cpio.gz, guest-initrd.cpio.gz,
# guest-xenstore-initrd.cpio.gz (the DHCP-less guest's), modules/lib/modules/<v>, kernel-version.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${VNDLAB_CACHE:-/var/cache/vif-nat-dns-lab}
case "${1:-}" in
  -h|--help) sed -n '2,4p' "$0" | sed 's/^# //'; exit 0 ;;
esac
[ "$(id -u)" = 0 ] || { echo "build-images: run as root (apt-get download, depmod, cpio with device nodes)" >&2; exit 1; }
for tool in zcat xz cpio depmod dpkg-deb apt-get; do
  command -v "$tool" >/dev/null || { echo "build-images: $tool missing: apt-get install -y --no-install-recommends xen-hypervisor-4.17-amd64 xen-utils-4.17 qemu-system-x86 qemu-system-xen kmod cpio" >&2; exit 1; }
done
XEN_GZ=/boot/xen-4.17-amd64.gz
[ -r "$XEN_GZ" ] || { echo "build-images: $XEN_GZ missing: apt-get install -y --no-install-recommends xen-hypervisor-4.17-amd64" >&2; exit 1; }

version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || true; }
candidate() { apt-cache policy "$1" | sed -n 's/^  Candidate: //p'; }
# (no early-exiting reader in a pipeline: with pipefail its writer's SIGPIPE would fail the build)
KPKG=$(apt-cache depends linux-image-amd64 | awk '/^  Depends: linux-image-[0-9]/ && !found { print $2; found = 1 }')
[ -n "$KPKG" ] || { echo "build-images: apt knows no linux-image-amd64 kernel: run apt-get update" >&2; exit 1; }
KVER=${KPKG#linux-image-}
GUEST_SCRIPT=$HERE/../../templates/guest/vif-nat-dns-guest
XENSTORE=/usr/bin/xenstore   # the guests' xenstore-read/-list/-write/-rm: Debian's xenstore-utils, as installed here
[ -x "$XENSTORE" ] || { echo "build-images: $XENSTORE missing: apt-get install -y --no-install-recommends xenstore-utils" >&2; exit 1; }
KEY_TEXT="xen=$(version xen-hypervisor-4.17-amd64) kernel=$KPKG=$(candidate "$KPKG") busybox=$(candidate busybox-static) xenstore-utils=$(version xenstore-utils) libxenstore4=$(version libxenstore4) libc6=$(version libc6)
$(cat "$0" "$HERE/dom0-initramfs-init.sh" "$HERE/guest-init.sh" "$HERE/../harness/udhcpc-script.sh" "$GUEST_SCRIPT")"
KEY=$(printf '%s' "$KEY_TEXT" | sha256sum | cut -c1-16)
OUT=$CACHE/$KEY
if [ -e "$OUT/ready" ]; then echo "$OUT"; exit 0; fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ -e "$OUT/ready" ]; then echo "$OUT"; exit 0; fi
rm -rf "$OUT" "$OUT.tmp"
WORK=$OUT.tmp
mkdir -p "$WORK/debs"
trap 'rm -rf "$WORK"' EXIT
say() { echo "build-images: $*" >&2; }

say "downloading $KPKG and busybox-static (apt-get download; not installed)"
(cd "$WORK/debs" && apt-get download "$KPKG" busybox-static) >&2
dpkg-deb -x "$WORK"/debs/linux-image-*.deb "$WORK/kernel"
dpkg-deb -x "$WORK"/debs/busybox-static_*.deb "$WORK/busybox"
BUSYBOX=$WORK/busybox/bin/busybox

say "xen.elf (QEMU's multiboot loader needs it uncompressed), kernel $KVER, modules"
zcat "$XEN_GZ" > "$WORK/xen.elf"
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
# guests boot the uncompressed ELF: libxc would otherwise unpack the xz-compressed bzImage in dom0 for every
# xl create, ~1 s of CPU natively and many times that under QEMU's emulation
offset=$(LC_ALL=C grep -m 1 -aboP '\xfd7zXZ\x00' "$WORK/vmlinuz" | cut -d: -f1)
(tail -c +$((offset + 1)) "$WORK/vmlinuz" || true) | xz -dc --single-stream > "$WORK/vmlinux"   # xz stops at the stream's end: tail gets SIGPIPE
[ "$(head -c 4 "$WORK/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] || { echo "build-images: no ELF kernel inside vmlinuz" >&2; exit 1; }
mkdir -p "$WORK/modules/lib/modules"
mv "$WORK/kernel/lib/modules/$KVER" "$WORK/modules/lib/modules/$KVER"
depmod -b "$WORK/modules" "$KVER"
printf '%s\n' "$KVER" > "$WORK/kernel-version"

module_path() { modinfo -b "$WORK/modules" -k "$KVER" -n "$1"; }

# initramfs skeleton: busybox (static) and its applets as links, device nodes for the console
skeleton() {
  local root=$1
  mkdir -p "$root"/{bin,sbin,dev,proc,sys,etc,lib/modules,newroot,tmp,run}
  cp "$BUSYBOX" "$root/bin/busybox"
  for applet in $("$BUSYBOX" --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
  mknod -m 600 "$root/dev/console" c 5 1
  mknod -m 666 "$root/dev/null" c 1 3
}
pack() { (cd "$1" && find . | cpio -o -H newc --quiet) | gzip -6 > "$2"; }

say "dom0 initramfs: 9p root + overlay, then switch_root"
D0=$WORK/dom0-initramfs
skeleton "$D0"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p overlay; do
  cp "$(module_path "$m")" "$D0/lib/modules/$m.ko"
done
cp "$HERE/dom0-initramfs-init.sh" "$D0/init" && chmod 755 "$D0/init"
pack "$D0" "$WORK/dom0-initrd.cpio.gz"

say "guest initramfs: busybox, xen-netfront, udhcpc, the lab's reporting init"
G=$WORK/guest-initramfs
skeleton "$G"
cp "$(module_path xen-netfront)" "$G/lib/modules/xen-netfront.ko"
cp "$HERE/guest-init.sh" "$G/init" && chmod 755 "$G/init"
cp "$HERE/../harness/udhcpc-script.sh" "$G/bin/udhcpc-script" && chmod 755 "$G/bin/udhcpc-script"
# the kernel's orderly power-off (xl shutdown) runs /sbin/poweroff: make it act at once under a shell as PID 1
rm -f "$G/sbin/poweroff" && printf '#!/bin/sh\nexec /bin/busybox poweroff -f\n' > "$G/sbin/poweroff" && chmod 755 "$G/sbin/poweroff"
pack "$G" "$WORK/guest-initrd.cpio.gz"

say "DHCP-less guest initramfs: the same, plus xenstore-utils and the guest script"
# its own image: the ~2.6 MB it adds (libc mostly) would not fit every guest's 88 MiB (Debian's kernel panics
# unpacking it: "System is deadlocked on memory"). xenstore-utils' one binary acts by the name it is run as; the
# shared libraries ldd names go to their paths. /dev/xen/xenbus, which it talks through, is built into Debian's
# kernel (xenbus_dev_frontend) and devtmpfs creates it.
cp "$XENSTORE" "$G/bin/xenstore"
for tool in read list write rm; do ln -s xenstore "$G/bin/xenstore-$tool"; done
for lib in $(ldd "$XENSTORE" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
  mkdir -p "$G$(dirname "$lib")" && cp -L "$lib" "$G$lib"
done
cp "$GUEST_SCRIPT" "$G/sbin/vif-nat-dns-guest" && chmod 755 "$G/sbin/vif-nat-dns-guest"
printf 'MAC_FALLBACK=no\n' > "$G/etc/vif-nat-dns-guest.conf"   # xenstore or nothing
pack "$G" "$WORK/guest-xenstore-initrd.cpio.gz"

rm -rf "$WORK/debs" "$WORK/kernel" "$WORK/busybox" "$D0" "$G"
printf '%s\n' "${KEY_TEXT%%$'\n'*}" > "$WORK/ready"
mv "$WORK" "$OUT"
trap - EXIT
# older builds (other package versions) are dead weight
for old in "$CACHE"/*/; do [ "${old%/}" = "$OUT" ] || rm -rf "${old%/}"; done
say "images ready in $OUT"
echo "$OUT"
