#!/usr/bin/env bash
# Builds the CCS Admin .deb with CPack and checks it:
#
#   packaging/linux/build-deb.sh [BUILD_DIR]      (default: build/pkg)
#
# Release build with Debian's hardening flags (dpkg-buildflags), tests off;
# then the desktop file and metainfo as installed are validated, and lintian
# must report no errors (its warnings are printed). Installs the packaging
# tools it needs if they are missing; the build dependencies come from
# packaging/deps/install-deps.sh. The package lands in BUILD_DIR.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_DIR=$(cd "$HERE/../.." && pwd)
# shellcheck source=tools.sh
. "$HERE/tools.sh"

BUILD_DIR=${1:-$SOURCE_DIR/build/pkg}
pkg_ensure dpkg-dev lintian desktop-file-utils appstream file

# Debian's hardening: CMake reads CXXFLAGS and LDFLAGS; CPPFLAGS (fortify)
# has no CMake counterpart, so it joins CXXFLAGS.
eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
export CXXFLAGS="$CPPFLAGS $CXXFLAGS"

cmake -S "$SOURCE_DIR" -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DCCS_BUILD_TESTS=OFF -DCCS_BUILD_BENCH=OFF -DCCS_BUILD_FUZZ=OFF >/dev/null
cmake --build "$BUILD_DIR" --parallel 2
rm -f "$BUILD_DIR"/ccs-admin_*.deb
(cd "$BUILD_DIR" && cpack -G DEB >cpack.log 2>&1) || { tail -30 "$BUILD_DIR/cpack.log"; exit 1; }
DEB=$(ls "$BUILD_DIR"/ccs-admin_*.deb)
pkg_log "built $DEB"

echo "--- dpkg-deb --field"
dpkg-deb --field "$DEB"
echo "--- dpkg-deb --contents"
dpkg-deb --contents "$DEB" | awk '{print $1, $6, $7, $8}'

# The desktop integration exactly as the package installs it.
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
dpkg-deb -x "$DEB" "$STAGE"
echo "--- desktop-file-validate"
desktop-file-validate "$STAGE"/usr/share/applications/*.desktop && echo "desktop file: valid"
echo "--- appstreamcli validate --no-net"
appstreamcli validate --no-net "$STAGE"/usr/share/metainfo/*.metainfo.xml
echo "--- RPATH and the private QXmpp"
for f in "$STAGE"/usr/bin/*; do
    printf '%s: %s\n' "${f#"$STAGE"}" "$(objdump -p "$f" | awk '/RUNPATH|RPATH/ {print $1, $2}')"
done

echo "--- lintian"
# Errors fail the build; warnings are listed for the report.
lintian --fail-on error --display-level '>=warning' "$DEB" && pkg_log "lintian: no errors"
