#!/usr/bin/env bash
# Installs what CCS Admin needs to build and test on Debian 12, and nothing
# that is already there. Idempotent: a second run does no work.
#
#   packaging/deps/install-deps.sh            build + test dependencies
#   packaging/deps/install-deps.sh --runtime  only what the GUI needs to run
#
# QXmpp: Debian 12 packages it for Qt 5 only, so QXmpp 1.10.3 is built for
# Qt 6 from Debian 13's source package, fetched with apt through a private
# apt state directory that reuses the mirror this machine is configured
# for. It is installed into a cache outside the checkout
# ($CCS_DEPS_CACHE, default ~/.cache/ccs-admin) and reused by every build.
set -euo pipefail

QXMPP_VERSION=1.10.3
QXMPP_DEBIAN_VERSION=1.10.3-1
CACHE="${CCS_DEPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ccs-admin}"
QXMPP_PREFIX="$CACHE/qxmpp-$QXMPP_VERSION-qt6"

log() { printf '[deps] %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root to run: $*"; exit 1; fi
}

PACKAGES=(
    build-essential cmake ninja-build pkg-config git
    # Qt modules: one per find_package(Qt6 COMPONENTS ...) in CMakeLists.txt; the
    # SQLite driver for the history; WebSockets for the emulator's admin event stream
    qt6-base-dev qt6-base-dev-tools libqt6sql6-sqlite
    # the history writer binds rows on the driver's sqlite3 handle (find_package(SQLite3))
    libsqlite3-dev
    qt6-httpserver-dev qt6-websockets-dev qt6-svg-dev
    qtkeychain-qt6-dev libssl-dev openssl
    # tests: the third-party CCS client, fonts for the offscreen GUI tests
    # (packaging/linux/capture-screenshot.sh installs Xvfb itself when it runs)
    python3-slixmpp fonts-dejavu-core
    # tests: a real Secret Service in a private D-Bus session (ctest -L keychain):
    # dbus-run-session and dbus-send, the gnome-keyring daemon, libsecret (which
    # QtKeychain loads) and secret-tool to read back what was stored
    dbus dbus-bin dbus-daemon gnome-keyring libsecret-1-0 libsecret-tools
    # the apt source fetch of QXmpp
    xz-utils ca-certificates
)

missing=()
for p in "${PACKAGES[@]}"; do
    case "$p" in \#*) continue ;; esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    log "Debian packages: all present"
fi

# Prefer an installed QXmppQt6 (a distribution package or a developer's own).
if [ -z "${CCS_FORCE_QXMPP_BUILD:-}" ]; then
    for d in /usr/lib/*/cmake/QXmppQt6 /usr/local/lib/cmake/QXmppQt6 /usr/local/lib/*/cmake/QXmppQt6; do
        if [ -f "$d/QXmppQt6Config.cmake" ]; then log "QXmppQt6 found at $d"; exit 0; fi
    done
fi
if [ -f "$QXMPP_PREFIX/.complete" ]; then
    log "QXmpp $QXMPP_VERSION (Qt 6) cached at $QXMPP_PREFIX"
    exit 0
fi

# The machine's configured Debian mirror: the first deb822 or one-line source
# whose suite is bookworm. Nothing is hard-coded; the system's apt state is
# left untouched.
mirror_uri() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN{RS=""; IGNORECASE=1}
             /Suites:[^\n]*bookworm([ \n]|$)/ && /Components:[^\n]*main/ {
                 if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { s=substr($0,RSTART,RLENGTH); sub(/URIs:[ \t]*/,"",s); print s; exit }
             }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1=="deb" || $1=="deb-src" { i=2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
             if ($(i+1)=="bookworm") { print $i; exit } }' "$f"
    done
}
MIRROR=$(mirror_uri | head -n1)
if [ -z "$MIRROR" ]; then
    log "no Debian bookworm mirror found in /etc/apt/sources.list{,.d}: cannot fetch QXmpp's source"
    exit 1
fi

APTDIR="$CACHE/apt-trixie-src"
mkdir -p "$APTDIR/state/lists/partial" "$APTDIR/cache/archives/partial" "$APTDIR/parts" "$APTDIR/prefs"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb-src [signed-by=$KEYRING] $MIRROR trixie main" >"$APTDIR/sources.list"
APT_OPTS=(
    -o "Dir::State=$APTDIR/state" -o "Dir::State::status=/var/lib/dpkg/status"
    -o "Dir::Cache=$APTDIR/cache"
    -o "Dir::Etc::SourceList=$APTDIR/sources.list" -o "Dir::Etc::SourceParts=$APTDIR/parts"
    -o "Dir::Etc::Preferences=$APTDIR/prefs/none" -o "Dir::Etc::PreferencesParts=$APTDIR/prefs"
    -o "APT::Sandbox::User=root"
)
SRC="$CACHE/src"
mkdir -p "$SRC"
if ! ls "$SRC"/qxmpp_"$QXMPP_VERSION".orig.tar.* >/dev/null 2>&1; then
    log "fetching qxmpp=$QXMPP_DEBIAN_VERSION source from the trixie suite of the configured mirror"
    apt-get "${APT_OPTS[@]}" update -qq
    (cd "$SRC" && apt-get "${APT_OPTS[@]}" source --download-only --tar-only "qxmpp=$QXMPP_DEBIAN_VERSION")
fi
TARBALL=$(ls "$SRC"/qxmpp_"$QXMPP_VERSION".orig.tar.* | head -n1)

BUILD="$CACHE/build-qxmpp"
rm -rf "$BUILD" && mkdir -p "$BUILD"
tar -xf "$TARBALL" -C "$BUILD"
SRCDIR=$(find "$BUILD" -mindepth 1 -maxdepth 1 -type d | head -n1)
log "building QXmpp $QXMPP_VERSION for Qt 6 (tests and examples off)"
cmake -S "$SRCDIR" -B "$BUILD/out" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$QXMPP_PREFIX" \
    -DCMAKE_INSTALL_LIBDIR=lib \
    -DQT_VERSION_MAJOR=6 -DBUILD_TESTS=OFF -DBUILD_EXAMPLES=OFF -DBUILD_DOCUMENTATION=OFF \
    -DBUILD_OMEMO=OFF -DWITH_GSTREAMER=OFF -DBUILD_SHARED=ON >"$BUILD/configure.log" 2>&1 \
    || { tail -30 "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD/out" --parallel "$(nproc)" >"$BUILD/build.log" 2>&1 || { tail -40 "$BUILD/build.log"; exit 1; }
cmake --install "$BUILD/out" >/dev/null
touch "$QXMPP_PREFIX/.complete"
rm -rf "$BUILD"
log "QXmpp installed at $QXMPP_PREFIX"
