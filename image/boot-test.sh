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
# notify: the kiosk sent READY=1 after its first frame) and, WATCH_S seconds later,
# the kiosk is still running, was never restarted (its watchdog pings arrive), holds
# the DRM device and owns the framebuffer on screen. No root needed.
#
# Environment: TIMEOUT_S (default 900) bounds the whole boot; WATCH_S (default 45);
# SERVICE=hall-display for an image built with --role display (default kiosk);
# KEEP=1 keeps the console log and the copy in image/work/boot-test/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

case ${1:-} in
-h | --help) usage; exit 0 ;;
-*) die "unknown option $1: give the image's path, or nothing (see --help)" ;;
esac
IMG=$(realpath -m "${1:-$WORK_DIR/kiosk-debian.img}")
TIMEOUT_S=${TIMEOUT_S:-900}
WATCH_S=${WATCH_S:-45}
SERVICE=${SERVICE:-kiosk}
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
# Start from the site file the image ships (the example of the kiosk version inside
# it), so a newer example in this working tree cannot disagree with the image.
mcopy -o -i "$FAT" ::kiosk.toml "$RUN/shipped.toml" 2>/dev/null ||
    cp "$PROJECT_DIR/config/example.toml" "$RUN/shipped.toml"
python3 - "$RUN/shipped.toml" "$RUN/kiosk.toml" <<'EOF'
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
# A probe started from the kernel command line (systemd.run=), so the image's root
# is not touched: once the kiosk is up and has run WATCH_S seconds, it reports on the
# serial console whether the kiosk holds the DRM device, owns what the screen shows,
# and was never restarted (a missed watchdog ping would restart it).
cat >"$RUN/probe.sh" <<EOF
#!/bin/sh
until systemctl -q is-active ${SERVICE}.service; do sleep 2; done
sleep $WATCH_S
pid=\$(systemctl show -p MainPID --value ${SERVICE}.service)
card=no; ls -l /proc/\$pid/fd 2>/dev/null | grep -q /dev/dri/card && card=yes
owner=\$(grep -m1 "allocated by" /sys/kernel/debug/dri/0/state 2>/dev/null | sed 's/.*= *//')
data=\$(df -m --output=size /var/lib/kiosk | tail -1 | tr -d ' ')
root=\$(findmnt -n -o FSTYPE /)
echo "kiosk-probe: active=\$(systemctl is-active ${SERVICE}.service) restarts=\$(systemctl show -p NRestarts --value ${SERVICE}.service) drm=\$card screen=\$owner root=\$root data_mb=\$data" >/dev/ttyAMA0
EOF
mcopy -o -i "$FAT" "$RUN/probe.sh" ::probe.sh
# --debian images carry plain names; others the versioned ones raspi-firmware copies.
for f in vmlinuz initrd.img; do
    name=$f
    mdir -b -i "$FAT" "::$f" >/dev/null 2>&1 ||
        name=$(mdir -b -i "$FAT" :: | sed 's#^::/##' | grep "^$f-" | sort -V | tail -1)
    [ -n "$name" ] || die "no $f on the image's boot partition (build it with --debian)"
    mcopy -o -i "$FAT" "::$name" "$RUN/$f"
done

# The journal goes to the serial console, so systemd's own "Started kiosk.service"
# (sent only after READY=1, the unit being Type=notify) and the kiosk's messages
# are seen there; no login prompt competes for it.
DEBUG_ARGS="systemd.journald.forward_to_console=1 systemd.mask=serial-getty@ttyAMA0.service \
systemd.run=/boot/firmware/probe.sh systemd.run_success_action=none \
systemd.unit=multi-user.target systemd.wants=kernel-command-line.service"
step "booting in qemu-system-aarch64 (virt, 2 CPUs, 1 GB; console in $LOG)"
start=$SECONDS
qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 \
    -kernel "$RUN/vmlinuz" -initrd "$RUN/initrd.img" \
    -append "root=LABEL=kiosk-root rw rootwait console=ttyAMA0 net.ifnames=0 systemd.show_status=1 $DEBUG_ARGS" \
    -drive if=none,id=disk,format=raw,file="$RUN/disk.img" -device virtio-blk-pci,drive=disk \
    -device virtio-gpu-pci -display none -nic none \
    -serial file:"$LOG" -monitor unix:"$RUN/monitor.sock",server,nowait -no-reboot &
QEMU_PID=$!

ready_at=""
while :; do
    sleep 2
    elapsed=$((SECONDS - start))
    if ! kill -0 "$QEMU_PID" 2>/dev/null; then
        tail -30 "$LOG" >&2
        die "qemu stopped after ${elapsed} s before the kiosk was ready"
    fi
    if grep -qE "Failed to start .*${SERVICE}.service|${SERVICE}.service: (Watchdog timeout|Main process exited|Failed)" "$LOG"; then
        grep -E "kiosk" "$LOG" | tail -20 >&2
        die "${SERVICE}.service failed after ${elapsed} s (console log: $LOG; KEEP=1 keeps it)"
    fi
    if [ -z "$ready_at" ] && grep -qE "Started .*${SERVICE}.service" "$LOG"; then
        ready_at=$elapsed
        echo "kiosk ready (READY=1 received by systemd) after ${ready_at} s; watching ${WATCH_S} s more" >&2
    fi
    if grep -aq "kiosk-probe:" "$LOG"; then
        break
    fi
    if [ "$elapsed" -ge "$TIMEOUT_S" ]; then
        tail -40 "$LOG" >&2
        die "no 'kiosk ready' within ${TIMEOUT_S} s"
    fi
done
# What the kiosk drew through KMSDRM on the virtio GPU: a screenshot for people,
# and a check that it is not blank.
probe=$(grep -a -m1 -o "kiosk-probe:.*" "$LOG" | tr -d '\r')
echo "$probe" >&2
case $probe in
*"active=active restarts=0 drm=yes screen=${SERVICE} root=overlay data_mb="*) ;;
*) die "the kiosk was not running right after ${WATCH_S} s: $probe" ;;
esac
data_mb=${probe##*data_mb=}
[ "${data_mb%% *}" -ge 100 ] || die "the data partition (/var/lib/kiosk) is only ${data_mb} MB"
# For people: qemu's screenshot of the virtio GPU (has come out black under -display
# none even while the kiosk's framebuffer is on the screen; not a pass criterion).
python3 - "$RUN/monitor.sock" "$RUN/screen.ppm" <<'EOF' || true
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(f"screendump {sys.argv[2]}\n".encode())
time.sleep(2)
data = open(sys.argv[2], "rb").read()
# P6 header: magic, width, height, maxval, then RGB bytes.
parts = data.split(b"\n", 3)
w, h = map(int, parts[1].split())
pixels = parts[3]
colours = {pixels[i : i + 3] for i in range(0, len(pixels), 3 * 97)}
print(f"screen {w}x{h}, {len(colours)} colours sampled: {sys.argv[2]}", file=sys.stderr)
sys.exit(0)
EOF
grep -q "kiosk-overlay: root is read-only" "$LOG" && overlay="read-only root with overlay" || overlay="OVERLAY NOT SEEN"
echo "PASS: ${SERVICE} ready ${ready_at} s after power-on; ${WATCH_S} s later still running, never restarted, drawing on the DRM screen; ${overlay}; test took $((SECONDS)) s" >&2
grep -q "kiosk-overlay: root is read-only" "$LOG"
