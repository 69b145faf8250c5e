#!/usr/bin/env bash
# Installs the CCS Admin .deb into a clean Debian 12 root and runs it there.
#
#   packaging/linux/test-deb-in-clean-root.sh [PATH/TO/ccs-admin_*.deb]
#   packaging/linux/test-deb-in-clean-root.sh --prepare   only make the cached root
#
# The root is made once with debootstrap (minbase) from the mirror this
# machine's apt configuration names, kept as a tarball under
# ~/.cache/ccs-admin/ (outside the checkout) and unpacked afresh for every
# run, so each run starts from the same clean system. Inside it:
# `apt-get install ./the.deb` (dependencies come from the mirror), then
# packaging/linux/smoke-test.sh: `ccs-admin --version` (offscreen),
# `ccsctl --help`, and a session in which `ccs-emulator` and `ccsctl send`
# exchange a message with its receipt.
# Needs root (chroot, mounts); the mounts are undone on any exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_DIR=$(cd "$HERE/../.." && pwd)
# shellcheck source=tools.sh
. "$HERE/tools.sh"

DEB=${1:-}
PREPARE_ONLY=
if [ "$DEB" = --prepare ]; then PREPARE_ONLY=1; DEB=; fi
if [ -z "$DEB" ] && [ -z "$PREPARE_ONLY" ]; then
    DEB=$(ls -t "$SOURCE_DIR"/build/*/ccs-admin_*.deb 2>/dev/null | head -n1 || true)
fi
if [ -z "$PREPARE_ONLY" ]; then
    if [ -z "$DEB" ] || [ ! -f "$DEB" ]; then
        pkg_log "no .deb given or found under build/*/ (run packaging/linux/build-deb.sh first)"
        exit 2
    fi
    DEB=$(cd "$(dirname "$DEB")" && pwd)/$(basename "$DEB")
fi

if [ "$(id -u)" -ne 0 ]; then
    exec sudo --preserve-env=CCS_DEPS_CACHE,XDG_CACHE_HOME "$0" "${DEB:---prepare}"
fi

pkg_ensure debootstrap debian-archive-keyring

CACHE="${CCS_DEPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ccs-admin}"
PRISTINE="$CACHE/debian12-minbase.tar"
ROOT="$CACHE/debian12-root"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

MIRROR=$(pkg_mirror_uri | head -n1)
if [ -z "$MIRROR" ]; then
    pkg_log "no Debian bookworm mirror in /etc/apt/sources.list{,.d}: cannot debootstrap"
    exit 1
fi

mounted=()
cleanup() {
    local i
    # Stop anything still running inside the root, then unmount in reverse.
    if [ -d "$ROOT/proc" ]; then
        for p in /proc/[0-9]*; do
            if [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ]; then kill "${p#/proc/}" 2>/dev/null || true; fi
        done
    fi
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount -l "${mounted[$i]}" 2>/dev/null || true
    done
}
trap cleanup EXIT INT TERM

if [ ! -f "$PRISTINE" ]; then
    pkg_log "creating a Debian 12 minbase root with debootstrap (once; cached as $PRISTINE)"
    rm -rf "$ROOT.boot" && mkdir -p "$ROOT.boot"
    debootstrap --variant=minbase --keyring="$KEYRING" bookworm "$ROOT.boot" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
        || { tail -20 "$CACHE/debootstrap.log"; exit 1; }
    # The root's apt sources: the machine's own bookworm entries (main suite,
    # updates, security), so the .deb resolves against the same archive it
    # was built on.
    rm -f "$ROOT.boot/etc/apt/sources.list"
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] && grep -q bookworm "$f" && cp "$f" "$ROOT.boot${f}"
    done
    rm -rf "$ROOT.boot"/var/cache/apt/archives/*.deb
    tar -C "$ROOT.boot" -cf "$PRISTINE.part" . && mv "$PRISTINE.part" "$PRISTINE"
    rm -rf "$ROOT.boot"
fi
if [ -n "$PREPARE_ONLY" ]; then
    pkg_log "clean root cached at $PRISTINE"
    exit 0
fi

pkg_log "unpacking a fresh root at $ROOT"
rm -rf "$ROOT" && mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$PRISTINE"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# Daemons must not start from package scripts inside the root.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d" && chmod +x "$ROOT/usr/sbin/policy-rc.d"

mount -t proc proc "$ROOT/proc" && mounted+=("$ROOT/proc")
mount -t sysfs sysfs "$ROOT/sys" && mounted+=("$ROOT/sys")
mount --bind /dev "$ROOT/dev" && mounted+=("$ROOT/dev")
mount --bind /dev/pts "$ROOT/dev/pts" && mounted+=("$ROOT/dev/pts")

in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

cp "$DEB" "$ROOT/tmp/"

step() { printf '\n$ %s\n' "$*"; }

step "cat /etc/debian_version"
in_root cat /etc/debian_version
before=$(grep -c ' install ' "$ROOT/var/log/dpkg.log" || true)
step "apt-get install ./$(basename "$DEB")"
in_root sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && cd /tmp && apt-get install -y -qq --no-install-recommends '"./$(basename "$DEB")"' >/tmp/apt.log 2>&1 || { tail -30 /tmp/apt.log; exit 1; }'
in_root dpkg-query -W -f='${Package} ${Version} ${Status}\n' ccs-admin
echo "packages newly installed (the .deb and its dependencies): $(($(grep -c ' install ' "$ROOT/var/log/dpkg.log") - before))"
step "dpkg -L ccs-admin | grep -E 'bin/|lib/|applications|metainfo|scalable'"
in_root dpkg -L ccs-admin | grep -E '/bin/|/lib/.*\.so|applications/|metainfo/|scalable/' || true
step "dpkg -L ccs-admin | grep -E 'man1/|completions|vendor|systemd/user'"
in_root dpkg -L ccs-admin | grep -E '/man1/.*\.gz|completions/|vendor[-_]completions|systemd/user/' || true
step "ldd /usr/bin/{ccs-admin,ccsctl,ccs-emulator} | grep -E 'QXmpp|keychain|Widgets|not found'"
in_root sh -c 'for b in ccs-admin ccsctl ccs-emulator; do ldd /usr/bin/$b | grep -E "QXmpp|keychain|Widgets|not found" | sed "s|^|$b: |"; done' || true
# The programs themselves, as a user of the package runs them.
cp "$HERE/smoke-test.sh" "$ROOT/tmp/smoke-test.sh"
if in_root sh /tmp/smoke-test.sh; then
    pkg_log "OK: the .deb installs on a clean Debian 12 and its programs work there"
else
    pkg_log "FAILED: the smoke test in the clean root (see above)"
    exit 1
fi
