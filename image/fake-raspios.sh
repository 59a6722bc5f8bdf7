#!/usr/bin/env bash
# Make an image shaped like Raspberry Pi OS Lite, to exercise `build.sh --from`
# where the official image cannot be downloaded:
#
#   sudo image/fake-raspios.sh                      # -> image/work/fake-raspios.img
#   sudo image/build.sh --from image/work/fake-raspios.img --out image/work/kiosk-from.img
#   image/boot-test.sh image/work/kiosk-from.img
#
# Two partitions like the real one: FAT "bootfs" with a Raspberry-Pi-OS-style
# cmdline.txt (root by PARTUUID, the first-boot init) and an ext4 root, here the
# cached Debian arm64 root (so Debian's kernel, which boots on qemu's virt machine).
# It cannot show that the Raspberry-Pi-OS-only steps work on the real image.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

OUT=${1:-$WORK_DIR/fake-raspios.img}
[ "$(id -u)" -eq 0 ] || die "run as root (loop devices)"
need sfdisk losetup mkfs.vfat mkfs.ext4 mcopy debootstrap
TAR=$(bootstrap_tarball arm64 "$IMAGE_PACKAGES")

rm -f "$OUT"
truncate -s $((4 + 256 + 2000))M "$OUT"
sfdisk -q "$OUT" <<EOF
label: dos
start=4MiB, size=256MiB, type=c, bootable
start=260MiB, type=83
EOF
part() {
    sfdisk -d "$OUT" | grep -F "${OUT}$1 :" |
        sed -n 's/.*start= *\([0-9]*\).*size= *\([0-9]*\).*/\1 \2/p'
}
read -r bs bz < <(part 1)
read -r rs rz < <(part 2)
BD=$(losetup -f --show -o $((bs * 512)) --sizelimit $((bz * 512)) "$OUT")
RD=$(losetup -f --show -o $((rs * 512)) --sizelimit $((rz * 512)) "$OUT")
M=$(mktemp -d)
trap 'umount "$M" 2>/dev/null || true; rmdir "$M" || true; losetup -d "$BD" "$RD" || true' EXIT
mkfs.vfat -F 32 -n bootfs "$BD" >/dev/null 2>&1
mkfs.ext4 -q -L rootfs "$RD"
mount "$RD" "$M"
tar -C "$M" --numeric-owner -xf "$TAR"
chmod 0755 "$M"
umount "$M"
printf '%s\n' 'console=serial0,115200 console=tty1 root=PARTUUID=12345678-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot' >"$WORK_DIR/cmdline.txt"
printf 'arm_64bit=1\nauto_initramfs=1\n' >"$WORK_DIR/config.txt"
mcopy -i "$BD" "$WORK_DIR/cmdline.txt" "$WORK_DIR/config.txt" ::/
rm -f "$WORK_DIR/cmdline.txt" "$WORK_DIR/config.txt"
echo "made $OUT" >&2
