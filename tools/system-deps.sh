#!/bin/sh
# Install the Debian packages the tests need (tools/system-packages.txt), if any is missing.
#   as root with apt-get: apt-get update && apt-get install only what is missing;
#   otherwise: one line saying exactly what to install and why, and exit 1.
# Nothing is touched when everything is there (dpkg-query answers in milliseconds).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
list="$here/system-packages.txt"
wanted=$(sed -e 's/#.*//' "$list" | tr -s ' \t' '\n\n' | sed '/^$/d')

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "system-deps: not a Debian system, cannot check; the tests need the equivalents of:" \
        $wanted "(reasons in tools/system-packages.txt)" >&2
    exit 0
fi
missing=""
for p in $wanted; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "make test: missing Debian packages the tests use for real (reasons in" \
        "tools/system-packages.txt): run  sudo apt-get install$missing  (or sudo make test)" >&2
    exit 1
fi
echo "system-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086  # one word per package
apt-get install -y -q --no-install-recommends $missing >/dev/null
