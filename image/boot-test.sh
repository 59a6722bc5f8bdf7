#!/usr/bin/env bash
# Boot the Debian arm64 kiosk image in qemu-system-aarch64 and wait for the kiosk.
#
#   image/boot-test.sh [IMAGE]        (default image/work/kiosk-debian.img)
#
# The image is booted as built, on qemu's "virt" machine with the image's own
# kernel and initrd (taken from its boot partition), a virtio disk and a virtio
# GPU, so the kiosk draws through SDL's kmsdrm driver as on a Pi. Only the site
# file is swapped for a headless one (no printer, no hall display, no GPIO) on a
# throw-away copy. It passes when systemd reports kiosk.service started (Type=
# notify: the kiosk sent READY=1 after its first frame) and the service is still
# running WATCH_S seconds later (its watchdog pings arrive). No root needed.
#
# Environment: TIMEOUT_S (default 900) bounds the whole boot; WATCH_S (default 45);
# KEEP=1 keeps the console log and the copy in image/work/boot-test/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

IMG=$(realpath "${1:-$WORK_DIR/kiosk-debian.img}")
TIMEOUT_S=${TIMEOUT_S:-900}
WATCH_S=${WATCH_S:-45}
[ -f "$IMG" ] || die "no image at $IMG: build it with sudo image/build.sh --debian"
need qemu-system-aarch64 mcopy sfdisk

RUN=$WORK_DIR/boot-test
rm -rf "$RUN"
mkdir -p "$RUN"
LOG=$RUN/console.log
QEMU_PID=""
finish() {
    [ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    [ "${KEEP:-0}" = 1 ] || rm -f "$RUN/disk.img"
}
trap finish EXIT

step "copying the image (sparse) and putting a headless site file on its boot partition"
cp --sparse=always "$IMG" "$RUN/disk.img"
boot_start=$(sfdisk -d "$RUN/disk.img" | grep -F "disk.img1 :" | sed -n 's/.*start= *\([0-9]*\).*/\1/p')
FAT="$RUN/disk.img@@$((boot_start * 512))"
python3 - "$PROJECT_DIR/config/example.toml" "$RUN/kiosk.toml" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
def section_key(text, section, key, value):
    pat = re.compile(rf"(\[{section}\][^\[]*?^{key}\s*=\s*)[^\n]*", re.M | re.S)
    new, n = pat.subn(lambda m: m.group(1) + value, text, count=1)
    if n == 0:
        new = text.replace(f"[{section}]\n", f"[{section}]\n{key} = {value}\n", 1)
    return new
text = section_key(text, "printer", "uri", '"dummy:"')
text = section_key(text, "display", "enabled", "false")
text = section_key(text, "gpio", "enabled", "false")
open(sys.argv[2], "w", encoding="utf-8").write(text)
EOF
mcopy -o -i "$FAT" "$RUN/kiosk.toml" ::kiosk.toml
mcopy -o -i "$FAT" ::vmlinuz "$RUN/vmlinuz"
mcopy -o -i "$FAT" ::initrd.img "$RUN/initrd.img"

step "booting in qemu-system-aarch64 (virt, 2 CPUs, 1 GB; console in $LOG)"
start=$SECONDS
qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 \
    -kernel "$RUN/vmlinuz" -initrd "$RUN/initrd.img" \
    -append "root=LABEL=kiosk-root rw rootwait console=ttyAMA0 net.ifnames=0 systemd.show_status=1" \
    -drive if=none,id=disk,format=raw,file="$RUN/disk.img" -device virtio-blk-pci,drive=disk \
    -device virtio-gpu-pci -display none -nic none \
    -serial file:"$LOG" -monitor none -no-reboot &
QEMU_PID=$!

ready_at=""
while :; do
    sleep 2
    elapsed=$((SECONDS - start))
    if ! kill -0 "$QEMU_PID" 2>/dev/null; then
        tail -30 "$LOG" >&2
        die "qemu stopped after ${elapsed} s before the kiosk was ready"
    fi
    if grep -qE "Failed to start .*kiosk.service|kiosk.service: (Watchdog timeout|Main process exited|Failed)" "$LOG"; then
        grep -E "kiosk" "$LOG" | tail -20 >&2
        die "kiosk.service failed after ${elapsed} s (console log: $LOG; KEEP=1 keeps it)"
    fi
    if [ -z "$ready_at" ] && grep -qE "Started .*kiosk.service" "$LOG"; then
        ready_at=$elapsed
        echo "kiosk ready (READY=1 received by systemd) after ${ready_at} s; watching ${WATCH_S} s more" >&2
    fi
    if [ -n "$ready_at" ] && [ $((elapsed - ready_at)) -ge "$WATCH_S" ]; then
        break
    fi
    if [ "$elapsed" -ge "$TIMEOUT_S" ]; then
        tail -40 "$LOG" >&2
        die "no 'kiosk ready' within ${TIMEOUT_S} s"
    fi
done
grep -q "kiosk-overlay: root is read-only" "$LOG" && overlay="read-only root with overlay" || overlay="OVERLAY NOT SEEN"
echo "PASS: kiosk ready ${ready_at} s after power-on, still running ${WATCH_S} s later; ${overlay}" >&2
grep -q "kiosk-overlay: root is read-only" "$LOG"
