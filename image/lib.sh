# Shared helpers for the image scripts (sourced, not run).
# shellcheck shell=bash

IMAGE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_DIR="$(dirname "$IMAGE_DIR")"
WORK_DIR="${KIOSK_IMAGE_WORK:-$IMAGE_DIR/work}"
CACHE_DIR="$WORK_DIR/cache"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# What the amd64 test chroot holds: the parts of Raspberry Pi OS Lite the install
# script relies on (systemd, udev, python3 with venv), nothing more.
TEST_CHROOT_PACKAGES="systemd,systemd-sysv,udev,dbus,python3,python3-venv,ca-certificates"

# What the Debian arm64 image holds. raspi-firmware is in non-free-firmware.
IMAGE_PACKAGES="systemd,systemd-sysv,systemd-timesyncd,udev,dbus,kmod,initramfs-tools,\
linux-image-arm64,raspi-firmware,dosfstools,e2fsprogs,python3,python3-venv,ca-certificates,\
fonts-dejavu-core,openssh-server,iproute2,netbase,tzdata,alsa-utils,sqlite3,zstd"

step_no=0
step() {
    step_no=$((step_no + 1))
    printf '\n==> [%s %ds] %s\n' "$step_no" "$SECONDS" "$*" >&2
}
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}
# usage: the calling script's header comment (line 2 up to the first line of script).
usage() {
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
}
# The Debian package that gives a command (for the hint of need).
package_of() {
    case $1 in
    mcopy | mdir) echo mtools ;;
    mkfs.vfat) echo dosfstools ;;
    mkfs.ext4 | e2fsck | resize2fs) echo e2fsprogs ;;
    sfdisk) echo fdisk ;;
    losetup) echo mount ;;
    xz) echo xz-utils ;;
    qemu-system-aarch64) echo qemu-system-arm ;;
    chroot) echo coreutils ;;
    *) echo "$1" ;;
    esac
}
need() {
    local missing=() packages=() c p
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 && continue
        missing+=("$c")
        p=$(package_of "$c")
        [[ " ${packages[*]} " == *" $p "* ]] || packages+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] || die "missing commands: ${missing[*]} (apt-get install ${packages[*]})"
}

# bootstrap_tarball ARCH PACKAGES -> prints the path of a cached .tar of a Debian
# minbase root with PACKAGES. The cache key is the arch, suite and package list, so
# changing the list builds a new one; delete image/work/cache to force a rebuild.
bootstrap_tarball() {
    local arch=$1 packages=$2 key tar dir
    key=$(printf '%s %s %s' "$arch" "$DEBIAN_SUITE" "$packages" | sha256sum | cut -c1-12)
    tar="$CACHE_DIR/$DEBIAN_SUITE-$arch-$key.tar"
    if [ -f "$tar" ]; then
        echo "$tar"
        return
    fi
    mkdir -p "$CACHE_DIR"
    dir=$(mktemp -d "$CACHE_DIR/root.XXXXXX")
    echo "debootstrap $DEBIAN_SUITE $arch (10–35 min for arm64 under qemu-user, 1–5 min natively; cached in $tar)" >&2
    if ! debootstrap --arch="$arch" --variant=minbase \
        --components=main,non-free-firmware --include="$packages" \
        "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR" >"$dir.log" 2>&1; then
        tail -20 "$dir.log" >&2
        umount_below "$dir"
        rm -rf "$dir"
        die "debootstrap failed (log: $dir.log)"
    fi
    umount_below "$dir"
    rm -rf "$dir/var/cache/apt/archives/"*.deb
    chmod 0755 "$dir" # mktemp made it 0700; it becomes the root folder "/"
    tar -C "$dir" --numeric-owner -cf "$tar.part" .
    mv "$tar.part" "$tar"
    rm -rf "$dir" "$dir.log"
    echo "$tar"
}

# Unmount everything mounted at or below DIR, deepest first.
umount_below() {
    local dir
    dir=$(realpath "$1")
    awk -v d="$dir" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/mounts |
        sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# Mount what a chroot needs to run package scripts.
chroot_mounts() {
    local r=$1
    mount -t proc proc "$r/proc"
    mount -t sysfs sysfs "$r/sys"
    mount --bind /dev "$r/dev"
    mount -t devpts devpts "$r/dev/pts" 2>/dev/null || true
    mount -t tmpfs tmpfs "$r/run"
}

# make_wheelhouse DIR PLATFORM -> DIR holds the project's wheel and binary wheels of
# every dependency for CPython 3.11 on PLATFORM (manylinux2014_x86_64,
# manylinux2014_aarch64), so the target installs with no network and no compiler.
# Dependencies already in DIR are reused; the project's own wheel is rebuilt.
make_wheelhouse() {
    local dir=$1 platform=$2 py=${PYTHON:-python3} extra=""
    # pip evaluates environment markers for this machine, not the target: name the
    # target-only dependencies (pyproject.toml) by hand.
    case $platform in *aarch64) extra="lgpio>=0.2" ;; esac
    mkdir -p "$dir"
    rm -f "$dir"/queue_kiosk-*.whl
    "$py" -m pip wheel -q --disable-pip-version-check --no-deps -w "$dir" "$PROJECT_DIR" >&2
    "$py" -m pip download -q --disable-pip-version-check --only-binary=:all: \
        --platform "$platform" --platform "manylinux_2_28_${platform#*_}" \
        --platform "manylinux_2_34_${platform#*_}" \
        --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
        --find-links "$dir" -d "$dir" queue-kiosk $extra >&2
}
