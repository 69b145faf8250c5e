#!/usr/bin/env bash
# Captures the AppStream screenshot (resources/linux/screenshots/main-window.png)
# from a built ccs-admin on a virtual X display: a fresh profile starts on the
# local emulator, the composer sends a few messages to a simulated device,
# and the window is grabbed once their ACKs and receipts are in.
#
#   packaging/linux/capture-screenshot.sh [path/to/ccs-admin]   (default: build/pkg/app/ccs-admin)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_DIR=$(cd "$HERE/../.." && pwd)
# shellcheck source=tools.sh
. "$HERE/tools.sh"
pkg_ensure xvfb xdotool imagemagick fonts-dejavu-core

APP=${1:-$SOURCE_DIR/build/pkg/app/ccs-admin}
OUT="$SOURCE_DIR/resources/linux/screenshots/main-window.png"
mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d)
DISPLAY_NUM=:$((90 + RANDOM % 100))
XVFB_PID=
APP_PID=
cleanup() {
    [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null
    [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

Xvfb "$DISPLAY_NUM" -screen 0 1440x900x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
sleep 1
export DISPLAY=$DISPLAY_NUM
# A fresh profile, so the window opens as a new user sees it.
HOME=$WORK XDG_CONFIG_HOME=$WORK/config XDG_DATA_HOME=$WORK/data QT_QPA_PLATFORM=xcb \
    "$APP" >"$WORK/app.log" 2>&1 &
APP_PID=$!
for _ in $(seq 1 100); do
    xdotool search --onlyvisible --class ccs-admin >/dev/null 2>&1 && break
    sleep 0.1
done
WINDOW=$(xdotool search --onlyvisible --class ccs-admin | head -n1)
xdotool windowmove "$WINDOW" 0 0 windowsize "$WINDOW" 1440 900
sleep 3
# send_to TOKEN TIMES: the composer's To field (top left), then Ctrl+Return.
send_to() {
    xdotool mousemove 200 97 click 1
    sleep 0.3
    xdotool key ctrl+a BackSpace
    xdotool type --delay 10 "$1"
    for _ in $(seq 1 "$2"); do
        xdotool key ctrl+Return
        sleep 0.5
    done
}
send_to emu-pixel-7-registered 3
send_to emu-nexus-5-unregistered 1
send_to emu-galaxy-s23-registered 2
# Close the To field's completer; the receipts come ~200 ms after the ACKs.
xdotool key Escape
sleep 2
import -window root "$OUT"
pkg_log "screenshot written to $OUT"
