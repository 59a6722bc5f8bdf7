#!/bin/sh
# /usr/local/bin/kiosk, installed by image/install.sh: the `kiosk` command for root
# (over SSH: `kiosk doctor`). The image has no sudo, and the store, its backups and keys
# belong to the kiosk user: a command run as root could leave root-owned files the kiosk
# then cannot open. So root's commands run as the kiosk user; only `kiosk time set` runs
# as root, since setting the system clock needs it (it reads the store as its owner).
# Anyone else runs the kiosk's own command as themselves.
KIOSK=@VENV@/bin/kiosk
if [ "$(id -u)" != 0 ]; then
    exec "$KIOSK" "$@"
fi
for arg in "$@"; do
    case $arg in
    -*) ;;
    time) exec "$KIOSK" "$@" ;;
    *) break ;;
    esac
done
exec runuser -u @USER@ -- "$KIOSK" "$@"
