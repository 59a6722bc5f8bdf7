#!/usr/bin/env bash
# Install or upgrade the queue kiosk on Raspberry Pi OS Lite (or Debian 12).
# Safe to run again: every step checks what is already there.
#
#   sudo image/install.sh                    # entrance kiosk, packages from PyPI
#   sudo image/install.sh --role display     # a hall-display Pi
#   sudo image/install.sh --wheels DIR       # offline: install from a wheel folder
#
# What it does: creates the unprivileged "kiosk" user and its device groups, puts
# the project in a virtual environment (/opt/kiosk/venv), installs the systemd
# units, udev rules and log limits, enables the services of the chosen role, and
# writes the site file /boot/firmware/kiosk.toml from the example if there is none.
set -euo pipefail
# Whatever umask sudo passes on, the kiosk user must be able to run what is installed.
umask 022

KIOSK_USER=kiosk
# Groups the services need: GPIO chips, serial adapters, USB printers, the screen
# (drm: video and render), touch/keypad input, sound.
KIOSK_GROUPS="gpio dialout lp video render input audio"
PREFIX=/opt/kiosk
VENV=$PREFIX/venv
SRC_DEST=$PREFIX/src
STATE=/var/lib/kiosk
BOOT=/boot/firmware

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROLE=kiosk
WHEELS=""
ENABLE=yes
APT=yes

usage() {
    # The header comment, without the lines of script below it.
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
    echo
    cat <<EOF
Options:
  --role kiosk|display   what this Pi does (default: kiosk)
  --wheels DIR           install Python packages only from DIR (no PyPI)
  --src DIR              the project to install (default: $SRC)
  --no-apt               do not install missing Debian packages
  --no-enable            install but do not enable or start services
EOF
}

while [ $# -gt 0 ]; do
    case $1 in
    --role) ROLE=${2:?}; shift 2 ;;
    --wheels) WHEELS=$(realpath "${2:?}"); shift 2 ;;
    --src) SRC=$(realpath "${2:?}"); shift 2 ;;
    --no-apt) APT=no; shift ;;
    --no-enable) ENABLE=no; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case $ROLE in kiosk | display) ;; *)
    echo "install.sh: --role must be kiosk or display, not '$ROLE'" >&2
    exit 2
    ;;
esac

say() { printf '[install] %s\n' "$*"; }
die() { printf '[install] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0)"
[ -f "$SRC/pyproject.toml" ] && [ -d "$SRC/systemd" ] || die "$SRC is not the kiosk project"

# Running systemd (a real Pi) or not (a chroot during an image build)?
LIVE=no
if [ -d /run/systemd/system ] && ! { command -v ischroot >/dev/null && ischroot; }; then
    LIVE=yes
fi

# ---------------------------------------------------------------- Debian packages
missing=()
python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null ||
    die "Python 3.11 or newer is needed (Raspberry Pi OS / Debian 12 'bookworm' has it)"
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
command -v aplay >/dev/null || missing+=(alsa-utils)
command -v espeak-ng >/dev/null || missing+=(espeak-ng) # the voice clips
if [ ${#missing[@]} -gt 0 ]; then
    if [ $APT = yes ]; then
        say "installing Debian packages: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
            { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } ||
            die "apt-get could not install ${missing[*]}; connect the Pi to the network or install them by hand"
    elif [[ " ${missing[*]} " == *" python3-venv "* ]]; then
        die "python3-venv is missing and --no-apt was given"
    else
        say "note: not installed (--no-apt): ${missing[*]}"
    fi
fi

# ---------------------------------------------------------------- user and groups
for g in $KIOSK_GROUPS; do
    if ! getent group "$g" >/dev/null; then
        groupadd --system "$g"
        say "created group $g"
    fi
done
if ! getent passwd "$KIOSK_USER" >/dev/null; then
    useradd --system --user-group --home-dir "$STATE" --no-create-home \
        --shell /usr/sbin/nologin --comment "Queue kiosk" "$KIOSK_USER"
    say "created user $KIOSK_USER (no password, no login shell)"
fi
usermod -a -G "$(echo "$KIOSK_GROUPS" | tr ' ' ',')" "$KIOSK_USER"
install -d -o "$KIOSK_USER" -g "$KIOSK_USER" -m 0750 "$STATE"
install -d -m 0755 /etc/kiosk

# ---------------------------------------------------------------- the project
say "copying the project to $SRC_DEST"
install -d -m 0755 "$PREFIX"
rm -rf "$SRC_DEST.new"
mkdir "$SRC_DEST.new"
tar -C "$SRC" --exclude=.git --exclude=.venv --exclude=image/work --exclude='*.egg-info' \
    --exclude=__pycache__ --exclude=.pytest_cache --exclude=.mypy_cache --exclude=.ruff_cache \
    --exclude=sim-out --exclude=build --exclude='*.db' --exclude='*.db-*' \
    -cf - . | tar -C "$SRC_DEST.new" -xf -
rm -rf "$SRC_DEST.old"
[ -d "$SRC_DEST" ] && mv "$SRC_DEST" "$SRC_DEST.old"
mv "$SRC_DEST.new" "$SRC_DEST"
rm -rf "$SRC_DEST.old"

if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment $VENV"
    python3 -m venv "$VENV"
fi
pip=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input -q)
if [ -n "$WHEELS" ]; then
    say "installing the kiosk from $WHEELS (offline)"
    "${pip[@]}" install --no-index --find-links "$WHEELS" queue-kiosk
    # Same version number but new code: replace the project itself.
    "${pip[@]}" install --no-index --find-links "$WHEELS" --force-reinstall --no-deps queue-kiosk
else
    say "installing the kiosk and its Python packages (PyPI)"
    "${pip[@]}" install --upgrade "$SRC_DEST"
fi
"$VENV/bin/kiosk" --version >/dev/null || die "the installed kiosk command does not run"

# ---------------------------------------------------------------- system files
say "installing systemd units, udev rules and log limits"
for f in "$SRC"/systemd/*.service "$SRC"/systemd/*.timer; do
    install -m 0644 "$f" /etc/systemd/system/
done
install -d /etc/udev/rules.d /etc/systemd/journald.conf.d
install -m 0644 "$SRC/systemd/70-kiosk.rules" /etc/udev/rules.d/70-kiosk.rules
install -m 0644 "$SRC/systemd/journald-kiosk.conf" /etc/systemd/journald.conf.d/kiosk.conf
# `kiosk` on root's PATH, running as the kiosk user (image/kiosk-wrapper.sh says why).
install -d /usr/local/bin
sed -e "s|@VENV@|$VENV|g" -e "s|@USER@|$KIOSK_USER|g" "$SRC/image/kiosk-wrapper.sh" \
    >/usr/local/bin/kiosk.new
chmod 0755 /usr/local/bin/kiosk.new
mv /usr/local/bin/kiosk.new /usr/local/bin/kiosk

if [ "$ROLE" = display ]; then
    touch /etc/kiosk/role-display
    units=(hall-display.service)
    others=(kiosk.service kiosk-backup.timer)
else
    rm -f /etc/kiosk/role-display
    units=(kiosk.service kiosk-backup.timer)
    others=(hall-display.service)
fi

# ---------------------------------------------------------------- the site file
if [ -d "$BOOT" ]; then
    SITE=$BOOT/kiosk.toml
else
    SITE=/etc/kiosk/kiosk.toml
fi
# Both roles read it: the hall display takes [display] and [announcer] from it.
if [ -e "$SITE" ]; then
    say "keeping the existing site file $SITE"
else
    install -m 0644 "$SRC/config/example.toml" "$SITE"
    say "wrote the example site file to $SITE: edit it for this office"
fi
# The procedure guide's list lives beside the site file ([guide] file, docs/guide.md).
GUIDE=$(dirname "$SITE")/procedures.toml
if [ ! -e "$GUIDE" ]; then
    install -m 0644 "$SRC/config/procedures.toml" "$GUIDE"
    say "wrote the sample procedure guide to $GUIDE: check its fees and links for this office"
fi
"$VENV/bin/kiosk" check-config "$SITE" ||
    say "warning: $SITE has problems (above); the kiosk will not start until they are fixed"

# ---------------------------------------------------------------- voice clips
VOICE=/usr/share/hall-display/voice
if "$VENV/bin/hall-display" --help 2>/dev/null | grep -q make-voice; then
    if command -v espeak-ng >/dev/null; then
        say "making the voice clips in $VOICE (hall-display make-voice)"
        "$VENV/bin/hall-display" make-voice --out "$VOICE" >/dev/null ||
            say "warning: hall-display make-voice failed; calls will not be spoken until it succeeds"
    else
        say "note: espeak-ng is missing, so no voice clips were made (apt-get install espeak-ng, then run this again)"
    fi
fi

# ---------------------------------------------------------------- enable and start
if [ $ENABLE = yes ]; then
    systemctl disable -q "${others[@]}" 2>/dev/null || true
    systemctl enable -q "${units[@]}"
    say "enabled: ${units[*]}"
    if [ $LIVE = yes ]; then
        systemctl daemon-reload
        udevadm control --reload && udevadm trigger --subsystem-match=tty --subsystem-match=usbmisc \
            --subsystem-match=usb --subsystem-match=gpio || true
        systemctl stop "${others[@]}" 2>/dev/null || true
        systemctl restart "${units[@]}"
        say "started: ${units[*]}"
    fi
fi
say "done: $("$VENV/bin/kiosk" --version), role $ROLE. Check it as root with: kiosk doctor (it runs as the $KIOSK_USER user)"
