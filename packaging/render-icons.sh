#!/usr/bin/env bash
# Renders the application icon from its hand-written SVG into the PNG sizes
# (Linux hicolor theme, the window icon), the Windows .ico and the macOS
# .icns. The outputs are committed, so the Windows and macOS builds need
# none of these tools; run this again after editing the SVG.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=linux/tools.sh
. "$HERE/linux/tools.sh"
pkg_ensure librsvg2-bin icnsutils imagemagick

ICONS=$(cd "$HERE/../resources/icons" && pwd)
SVG="$ICONS/ccs-admin.svg"
OUT="$ICONS/png"
mkdir -p "$OUT"
# ImageMagick's own binary, not a stand-in earlier on PATH.
CONVERT=/usr/bin/convert

for size in 16 24 32 48 64 128 256 512; do
    rsvg-convert --width "$size" --height "$size" "$SVG" -o "$OUT/ccs-admin-$size.png"
done
# Windows: one .ico with the sizes Explorer and the taskbar ask for.
"$CONVERT" "$OUT"/ccs-admin-{16,24,32,48,64,256}.png "$ICONS/ccs-admin.ico"
# macOS: png2icns takes the sizes the icns format defines.
png2icns "$ICONS/ccs-admin.icns" "$OUT"/ccs-admin-{16,32,48,128,256,512}.png >/dev/null
pkg_log "icons rendered into $ICONS"
