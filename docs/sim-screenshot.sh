#!/bin/sh
# Screenshot of `kiosk sim` (kiosk window + hall-display window) under Xvfb, driven by
# real X11 key presses: two citizens take tickets, counter 2 calls, the paper runs out,
# a third citizen takes a ticket. Writes docs/img/sim-windows.png.
# Needs Xvfb and xdotool (apt-get install xvfb xdotool).
set -eu
cd "$(dirname "$0")/.."
OUT="$(mktemp -d)"
DISP=":$(( $$ % 500 + 100 ))"
Xvfb "$DISP" -screen 0 1920x1080x24 >/dev/null 2>&1 &
XPID=$!
trap 'kill $SIM $XPID 2>/dev/null || true' EXIT
sleep 1
unset SDL_VIDEODRIVER
DISPLAY="$DISP" .venv/bin/kiosk sim --out "$OUT" --mute >"$OUT/sim.log" 2>&1 &
SIM=$!
sleep 5
export DISPLAY="$DISP"
# No window manager here: once both windows are up (the newest has the keyboard),
# give the kiosk window the keyboard by hand.
# (xdotool's --name search misses SDL's UTF-8 titles here: list windows, read names.)
window() {
    for w in $(xdotool search --onlyvisible --classname '.*' 2>/dev/null); do
        case "$(xdotool getwindowname "$w")" in "$1"*) echo "$w"; return 0 ;; esac
    done
    return 1
}
n=0
until window "Hall display" >/dev/null; do
    n=$((n + 1)); [ $n -lt 60 ] || { echo "no hall-display window" >&2; exit 1; }
    sleep 0.5
done
sleep 1
W=$(window "Kiosk")
xdotool windowfocus "$W"
for k in h 1 p 2 F2 n F9 3; do xdotool key "$k"; sleep 0.7; done
sleep 3
.venv/bin/python -c "
from PIL import ImageGrab
ImageGrab.grab(xdisplay='$DISP').crop((0, 0, 1912, 600)).save('docs/img/sim-windows.png')"
kill -TERM $SIM
wait $SIM || true
cat "$OUT/sim.log"
echo docs/img/sim-windows.png
