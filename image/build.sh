#!/usr/bin/env bash
# Build a flashable SD-card image of the queue kiosk.
#
#   sudo image/build.sh --from 2024-11-19-raspios-bookworm-arm64-lite.img.xz
#       customise an official Raspberry Pi OS Lite image (Pi 3, 4, 5)
#   sudo image/build.sh --debian
#       bootstrap Debian 12 arm64 with Debian's kernel and raspi-firmware (Pi 3, 4);
#       needs no Raspberry Pi OS image, only the Debian and PyPI registries
#
# Options:
#   --out FILE          image to write (default image/work/kiosk-<mode>.img)
#   --role kiosk|display  what the Pi does (default kiosk)
#   --site FILE         site file put on the boot partition (default: the example)
#   --data-mb N         size of the writable data partition (default 512)
#   --xz                also write FILE.xz (slow; for distribution)
#
# Both builds: the project in /opt/kiosk/venv, units enabled, the site file at
# /boot/firmware/kiosk.toml (FAT, editable from Windows), a read-only root under a
# RAM overlay with the queue database on its own data partition, capped logs, no
# password on any account, SSH off unless a key is put on the boot partition.
# Needs root, loop devices and binfmt_misc (qemu-user-static). Caches in image/work/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

MODE=""
FROM=""
OUT=""
ROLE=kiosk
SITE=""
DATA_MB=512
XZ=no
BOOT_MB=256
# Installed into the image at build time: the screen stack SDL's kmsdrm driver
# loads (GBM, EGL, GLES, Mesa's vc4/v3d drivers), name resolution, and the voice.
EXTRA_PACKAGES="libgbm1 libegl1 libgles2 libgl1-mesa-dri systemd-resolved espeak-ng"

while [ $# -gt 0 ]; do
    case $1 in
    --debian) MODE=debian; shift ;;
    --from) MODE=raspios; FROM=$(realpath "${2:?}"); shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    --role) ROLE=${2:?}; shift 2 ;;
    --site) SITE=$(realpath "${2:?}"); shift 2 ;;
    --data-mb) DATA_MB=${2:?}; shift 2 ;;
    --xz) XZ=yes; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
done
[ -n "$MODE" ] || die "say --from RASPIOS.img.xz or --debian (see --help)"
[ "$(id -u)" -eq 0 ] || die "run as root: it needs loop devices and chroot"
case $ROLE in kiosk | display) ;; *) die "--role must be kiosk or display" ;; esac
[ -z "$SITE" ] || [ -f "$SITE" ] || die "site file $SITE not found"
[ -z "$FROM" ] || [ -f "$FROM" ] || die "$FROM not found"
OUT=${OUT:-$WORK_DIR/kiosk-$MODE.img}
need sfdisk losetup mkfs.vfat mcopy mkfs.ext4 e2fsck resize2fs chroot tar xz
[ "$MODE" = raspios ] || need debootstrap
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && [ "$(uname -m)" != aarch64 ]; then
    mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || true
    update-binfmts --enable qemu-aarch64 2>/dev/null || true
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] ||
        die "cannot run arm64 programs: apt-get install qemu-user-static binfmt-support"
fi

MNT=$(mktemp -d "${TMPDIR:-/tmp}/kiosk-image.XXXXXX")
detach_loops() {
    [ -z "$OUT" ] || [ ! -e "$OUT" ] ||
        losetup -j "$OUT" | cut -d: -f1 | while read -r l; do losetup -d "$l" 2>/dev/null; done
}
cleanup() {
    set +e
    umount_below "$MNT"
    detach_loops
    rmdir "$MNT" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Partition N of the image as its own loop device (offsets, so no partition
# scanning is needed: works in containers without udev).
loop_part() {
    local img=$1 n=$2 line start size dev
    line=$(sfdisk -d "$img" | grep -F "${img}${n} :" || true)
    start=$(echo "$line" | sed -n 's/.*start= *\([0-9]*\).*/\1/p')
    size=$(echo "$line" | sed -n 's/.*size= *\([0-9]*\).*/\1/p')
    [ -n "$start" ] || die "no partition $n in $img"
    dev=$(losetup -f --show -o $((start * 512)) --sizelimit $((size * 512)) "$img")
    echo "$dev"
}

in_root() { LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive chroot "$MNT" "$@"; }

# ---------------------------------------------------------------- inputs
step "wheels for arm64 (cached in $WORK_DIR/wheels-arm64)"
PYTHON=${PYTHON:-$(command -v python3)} make_wheelhouse "$WORK_DIR/wheels-arm64" manylinux2014_aarch64
ls "$WORK_DIR/wheels-arm64" | sed 's/^/    /' >&2

if [ "$MODE" = debian ]; then
    step "Debian $DEBIAN_SUITE arm64 root (debootstrap; 10-20 min the first time, then cached)"
    TARBALL=$(bootstrap_tarball arm64 "$IMAGE_PACKAGES")
    root_mb=$(($(tar -tvf "$TARBALL" | awk '{s += $3} END {print int(s / 1048576)}') * 13 / 10 + 900))

    step "empty image: boot ${BOOT_MB} MB, root ${root_mb} MB, data ${DATA_MB} MB"
    rm -f "$OUT"
    truncate -s $(((4 + BOOT_MB + root_mb + DATA_MB) * 1024 * 1024)) "$OUT"
    # Explicit starts: left to itself sfdisk puts a partition in the first free gap,
    # which is the 3 MB before the boot partition.
    sfdisk -q "$OUT" <<EOF
label: dos
start=4MiB, size=${BOOT_MB}MiB, type=c, bootable
start=$((4 + BOOT_MB))MiB, size=${root_mb}MiB, type=83
start=$((4 + BOOT_MB + root_mb))MiB, type=83
EOF
    BOOT_DEV=$(loop_part "$OUT" 1)
    ROOT_DEV=$(loop_part "$OUT" 2)
    mkfs.vfat -F 32 -n KIOSKBOOT "$BOOT_DEV" >/dev/null
    mkfs.ext4 -q -L kiosk-root "$ROOT_DEV"
else
    step "unpacking $(basename "$FROM")"
    rm -f "$OUT"
    case $FROM in
    *.xz) xz -dc "$FROM" >"$OUT" ;;
    *.zst) zstd -dc "$FROM" >"$OUT" ;;
    *) cp --sparse=always "$FROM" "$OUT" ;;
    esac
    step "growing the root partition by 1 GB for the kiosk; adding the data partition"
    truncate -s +$((1024 + DATA_MB + 4))M "$OUT"
    echo ", +1GiB" | sfdisk -q -N 2 "$OUT" >/dev/null
    p2=$(sfdisk -d "$OUT" | grep -F "${OUT}2 :")
    p2_end=$(($(echo "$p2" | sed -n 's/.*start= *\([0-9]*\).*/\1/p') + $(echo "$p2" | sed -n 's/.*size= *\([0-9]*\).*/\1/p')))
    echo "start=$(((p2_end + 2047) / 2048 * 2048)), type=83" | sfdisk -q --append "$OUT" >/dev/null
    BOOT_DEV=$(loop_part "$OUT" 1)
    ROOT_DEV=$(loop_part "$OUT" 2)
    e2fsck -fy "$ROOT_DEV" >/dev/null || [ $? -le 1 ] || die "root file system of $FROM is damaged"
    resize2fs -f "$ROOT_DEV" >/dev/null 2>&1
    e2label "$ROOT_DEV" kiosk-root
fi
DATA_DEV=$(loop_part "$OUT" 3)
data_mb=$(($(blockdev --getsize64 "$DATA_DEV") / 1048576))
[ "$data_mb" -ge $((DATA_MB - 8)) ] || die "the data partition came out ${data_mb} MB, not ${DATA_MB} MB"
mkfs.ext4 -q -L kiosk-data "$DATA_DEV"

step "mounting"
mount "$ROOT_DEV" "$MNT"
if [ "$MODE" = debian ]; then
    step "unpacking the Debian root"
    tar -C "$MNT" --numeric-owner -xf "$TARBALL"
    chmod 0755 "$MNT"
fi
mkdir -p "$MNT/boot/firmware" "$MNT/data"
# The boot partition is filled with mtools at the end rather than mounted: kernels
# without vfat (containers, CI) can build too. Meanwhile it is a plain folder.
if [ "$MODE" = raspios ]; then
    mcopy -s -n -i "$BOOT_DEV" '::/*' "$MNT/boot/firmware/"
fi
mount "$DATA_DEV" "$MNT/data"
chroot_mounts "$MNT"
# Name resolution for apt inside the chroot; restored below.
if [ -e "$MNT/etc/resolv.conf" ] || [ -L "$MNT/etc/resolv.conf" ]; then
    mv "$MNT/etc/resolv.conf" "$MNT/etc/resolv.conf.kiosk-build"
fi
cp -L /etc/resolv.conf "$MNT/etc/resolv.conf"
# Raspberry Pi OS preloads a library that qemu-user cannot load.
[ -f "$MNT/etc/ld.so.preload" ] && mv "$MNT/etc/ld.so.preload" "$MNT/etc/ld.so.preload.kiosk-build"

# ---------------------------------------------------------------- system
step "Debian packages for the screen and network: $EXTRA_PACKAGES"
# shellcheck disable=SC2086
if ! in_root dpkg -s $EXTRA_PACKAGES >/dev/null 2>&1; then
    in_root apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    in_root apt-get install -y -q --no-install-recommends $EXTRA_PACKAGES python3-venv >/dev/null
fi

step "system settings: overlay root, fstab, logs, watchdog, SSH key-only, no passwords"
cp -r "$IMAGE_DIR/rootfs/." "$MNT/"
chmod 0755 "$MNT/etc/initramfs-tools/scripts/init-bottom/kiosk-overlay"
echo overlay >>"$MNT/etc/initramfs-tools/modules"
cat >"$MNT/etc/fstab" <<'EOF'
# The root is read-only under a RAM overlay (initramfs script kiosk-overlay).
LABEL=KIOSKBOOT   /boot/firmware  vfat  ro,noatime,umask=0022  0 2
LABEL=kiosk-data  /data           ext4  defaults,noatime,errors=remount-ro            0 2
/data/kiosk       /var/lib/kiosk  none  bind,x-systemd.requires-mounts-for=/data     0 0
EOF
if [ "$MODE" = raspios ]; then
    # Raspberry Pi OS mounts its boot partition by PARTUUID; keep its fstab lines
    # for / out (the overlay is the root) and use our labels.
    for f in "$MNT"/boot/firmware/cmdline.txt; do
        # No first-boot resize (the data partition follows the root) and root by label.
        sed -i -e 's# init=[^ ]*firstboot##; s# init=[^ ]*init_resize.sh##' \
            -e 's#root=[^ ]*#root=LABEL=kiosk-root#' -e 's#$# quiet vt.global_cursor_default=0#' "$f"
    done
    # No first-boot user wizard: the image has no login user at all.
    in_root systemctl disable -q userconfig.service 2>/dev/null || true
    in_root systemctl mask -q userconfig.service 2>/dev/null || true
    grep -q '^dtoverlay=vc4-kms-v3d' "$MNT/boot/firmware/config.txt" ||
        echo 'dtoverlay=vc4-kms-v3d' >>"$MNT/boot/firmware/config.txt"
fi
echo kiosk >"$MNT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tkiosk\n' >"$MNT/etc/hosts"
ln -sf /usr/share/zoneinfo/Asia/Ho_Chi_Minh "$MNT/etc/localtime"
echo Asia/Ho_Chi_Minh >"$MNT/etc/timezone"
# Every account locked: no default password anywhere.
for user in $(awk -F: '$2 !~ /^[!*]/ && $2 != "" {print $1}' "$MNT/etc/shadow") root; do
    in_root usermod -L "$user" >/dev/null 2>&1 || true
done
in_root passwd -l root >/dev/null 2>&1 || true
# Nothing writes to the read-only root behind the kiosk's back.
in_root systemctl mask -q apt-daily.timer apt-daily-upgrade.timer man-db.timer \
    e2scrub_all.timer e2scrub_reap.service 2>/dev/null || true
in_root systemctl enable -q systemd-networkd.service systemd-resolved.service systemd-timesyncd.service 2>/dev/null || true
in_root systemctl enable -q ssh.service 2>/dev/null || true
rm -f "$MNT"/etc/ssh/ssh_host_*

# ---------------------------------------------------------------- the kiosk
step "installing the kiosk (image/install.sh --role $ROLE) from the wheel folder"
mkdir -p "$MNT/mnt/kiosk-src" "$MNT/mnt/kiosk-wheels"
mount --bind "$PROJECT_DIR" "$MNT/mnt/kiosk-src"
mount --bind "$WORK_DIR/wheels-arm64" "$MNT/mnt/kiosk-wheels"
if [ -n "$SITE" ]; then
    install -m 0644 "$SITE" "$MNT/boot/firmware/kiosk.toml"
fi
in_root /mnt/kiosk-src/image/install.sh --role "$ROLE" --wheels /mnt/kiosk-wheels --no-apt
umount "$MNT/mnt/kiosk-src" "$MNT/mnt/kiosk-wheels"
rmdir "$MNT/mnt/kiosk-src" "$MNT/mnt/kiosk-wheels"
# The database lives on the data partition; the kiosk user owns its folder there.
kiosk_ids=$(in_root id -u kiosk):$(in_root id -g kiosk)
install -d -o "${kiosk_ids%:*}" -g "${kiosk_ids#*:}" -m 0750 "$MNT/data/kiosk"

step "kernel, initramfs (with the overlay script) and Raspberry Pi firmware"
if [ "$MODE" = debian ]; then
    KVER=$(basename "$(ls -1 "$MNT"/boot/vmlinuz-* | sort -V | tail -1)" | sed 's/^vmlinuz-//')
    in_root update-initramfs -u -k "$KVER" >/dev/null
    cp -r "$MNT"/usr/lib/raspi-firmware/. "$MNT/boot/firmware/"
    DEB_MAINT_PARAMS=configure in_root /etc/kernel/postinst.d/z50-raspi-firmware "$KVER"
    # The qemu boot test starts the same kernel and initrd from the boot partition.
    cp "$MNT/boot/vmlinuz-$KVER" "$MNT/boot/firmware/vmlinuz"
    cp "$MNT/boot/initrd.img-$KVER" "$MNT/boot/firmware/initrd.img"
else
    in_root update-initramfs -u -k all >/dev/null
fi

step "cleaning up"
in_root apt-get clean
rm -rf "$MNT"/var/lib/apt/lists/* "$MNT"/var/log/journal "$MNT"/tmp/* "$MNT"/root/.cache
: >"$MNT/etc/machine-id"
rm -f "$MNT/var/lib/dbus/machine-id"
rm -f "$MNT/etc/resolv.conf"
if [ -e "$MNT/etc/resolv.conf.kiosk-build" ] || [ -L "$MNT/etc/resolv.conf.kiosk-build" ]; then
    mv "$MNT/etc/resolv.conf.kiosk-build" "$MNT/etc/resolv.conf"
else
    ln -s /run/systemd/resolve/stub-resolv.conf "$MNT/etc/resolv.conf"
fi
[ -f "$MNT/etc/ld.so.preload.kiosk-build" ] && mv "$MNT/etc/ld.so.preload.kiosk-build" "$MNT/etc/ld.so.preload"
step "writing the boot partition (FAT32, label KIOSKBOOT)"
mkfs.vfat -F 32 -n KIOSKBOOT "$BOOT_DEV" >/dev/null
mcopy -s -Q -D o -i "$BOOT_DEV" "$MNT"/boot/firmware/* ::/
mdir -i "$BOOT_DEV" ::/ | tail -2 >&2
rm -rf "${MNT:?}"/boot/firmware/*
used=$(df -m --output=used "$MNT" | tail -1)
umount_below "$MNT"
e2fsck -fy "$ROOT_DEV" >/dev/null 2>&1 || true
e2fsck -fy "$DATA_DEV" >/dev/null 2>&1 || true
detach_loops

if [ $XZ = yes ]; then
    step "compressing to $OUT.xz"
    xz -T0 -6 -kf "$OUT"
fi
step "done"
size=$(du -m --apparent-size "$OUT" | cut -f1)
echo "image: $OUT  ${size} MB (root uses ${used} MB), built in ${SECONDS} s" >&2
[ $XZ = no ] || echo "compressed: $OUT.xz $(du -m "$OUT.xz" | cut -f1) MB" >&2
if [ $XZ = yes ]; then
    flash="xzcat $OUT.xz | dd of=/dev/sdX bs=4M conv=fsync status=progress"
else
    flash="dd if=$OUT of=/dev/sdX bs=4M conv=fsync status=progress"
fi
echo "flash it (sdX: the SD card, check with lsblk): $flash, or Raspberry Pi Imager" \
    "(\"Use custom\"); then edit kiosk.toml on the boot partition" >&2
