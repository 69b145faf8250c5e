#!/usr/bin/env bash
# Shared helpers for the packaging scripts (sourced, not run): logging,
# root, installing only the missing Debian packages, and the machine's
# configured Debian mirror. The build+test set-up stays in
# packaging/deps/install-deps.sh; these are the extra packaging tools.

pkg_log() { printf '[packaging] %s\n' "$*" >&2; }

pkg_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        pkg_log "need root to run: $*"
        return 1
    fi
}

# pkg_ensure PACKAGE...: apt-get install the ones that are not installed yet.
pkg_ensure() {
    local p missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    pkg_log "installing packaging tools: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    pkg_as_root apt-get update -qq
    pkg_as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The machine's configured Debian mirror for bookworm (deb822 first, then
# one-line sources), as packaging/deps/install-deps.sh reads it. Nothing is
# hard-coded: the host name lives only in the machine's apt configuration.
pkg_mirror_uri() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN{RS=""; IGNORECASE=1}
             /Types:[^\n]*deb([ \n]|$)/ && /Suites:[^\n]*bookworm([ \n]|$)/ && /Components:[^\n]*main/ {
                 if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { s=substr($0,RSTART,RLENGTH); sub(/URIs:[ \t]*/,"",s); print s; exit }
             }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1=="deb" { i=2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
             if ($(i+1)=="bookworm") { print $i; exit } }' "$f"
    done
}
