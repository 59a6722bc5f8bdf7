#!/bin/sh
# Kiosk screenshots for the README and docs/ui.md, drawn under Xvfb (a real X11
# window, the same code as on a kiosk) into docs/img/kiosk-*.png.
#   docs/screenshots.sh            1024x600 (the README's size)
#   docs/screenshots.sh 800x480    another size, files named kiosk-NAME-800x480.png
set -eu
cd "$(dirname "$0")/.."
SIZE="${1:-1024x600}"
SUFFIX=""
[ "$SIZE" = "1024x600" ] || SUFFIX="-$SIZE"
unset SDL_VIDEODRIVER
export SDL_AUDIODRIVER=dummy PYGAME_HIDE_SUPPORT_PROMPT=1
exec xvfb-run -a -s "-screen 0 1920x1080x24" \
    .venv/bin/python docs/screenshots.py --size "$SIZE" --suffix="$SUFFIX"
