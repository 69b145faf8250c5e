#!/usr/bin/env bash
# Runs a command against a real Secret Service that belongs to nobody else:
# a private D-Bus session bus (dbus-run-session) with a gnome-keyring daemon
# whose "login" collection is created and unlocked with a throwaway password,
# under a throwaway HOME. The user's own keychain (and session bus) is never
# reached. With --no-keyring the private bus has no Secret Service at all
# (and cannot start one: the bus has no service directories).
#
#   tests/keychain/run-with-keyring.sh [--no-keyring] COMMAND [ARGS...]
#
# Inside, CCS_KEYCHAIN_TEST_BUS holds the private bus address and
# CCS_KEYCHAIN_TEST_MODE is "keyring" or "none"; tst_keychain refuses to run
# without them. The daemon and the bus are stopped and the directory removed
# when the command ends. Needs dbus-run-session, dbus-send (dbus),
# gnome-keyring-daemon (gnome-keyring) and secret-tool (libsecret-tools):
# packaging/deps/install-deps.sh installs them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"

if [ "${1:-}" = "--inside" ]; then
    shift
    export CCS_KEYCHAIN_TEST_BUS="$DBUS_SESSION_BUS_ADDRESS"
    keyring_pid=""
    stop_keyring() { if [ -n "$keyring_pid" ]; then kill "$keyring_pid" 2>/dev/null || true; fi; }
    trap stop_keyring EXIT
    if [ "$CCS_KEYCHAIN_TEST_MODE" = keyring ]; then
        # --unlock creates the login collection with this password, or unlocks it.
        printf '%s\n' "throwaway-$$-$RANDOM$RANDOM" \
            | gnome-keyring-daemon --unlock --components=secrets >/dev/null
        # The daemon claims its bus name a moment after it forks: wait for it.
        for _ in $(seq 1 100); do
            if dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus / \
                org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
                | grep -q true; then
                keyring_pid="$(dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus / \
                    org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets \
                    | awk '{print $2}')"
                break
            fi
            sleep 0.1
        done
        if [ -z "$keyring_pid" ]; then
            echo "run-with-keyring: gnome-keyring-daemon did not appear on the private bus" >&2
            exit 1
        fi
    fi
    set +e
    "$@"
    rc=$?
    exit $rc
fi

mode=keyring
if [ "${1:-}" = "--no-keyring" ]; then
    mode=none
    shift
fi
if [ $# -eq 0 ]; then
    echo "usage: $0 [--no-keyring] COMMAND [ARGS...]" >&2
    exit 2
fi
for tool in dbus-run-session dbus-send gnome-keyring-daemon secret-tool; do
    if ! command -v "$tool" >/dev/null; then
        echo "run-with-keyring: $tool is missing; run packaging/deps/install-deps.sh" >&2
        exit 1
    fi
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ccs-keychain-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/config" "$tmp/data" "$tmp/cache" "$tmp/runtime"
chmod 700 "$tmp/runtime"
# A session bus with no service directories: nothing is started on demand,
# so "no Secret Service" stays so, and only the daemon started above answers.
cat >"$tmp/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir=$tmp/runtime</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF

export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" \
    XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/runtime" CCS_KEYCHAIN_TEST_MODE="$mode"
export CCS_KEYCHAIN_TEST_DIR="$tmp"
unset XDG_CURRENT_DESKTOP DESKTOP_SESSION GNOME_KEYRING_CONTROL SSH_AUTH_SOCK CCS_SECRET_STORE \
    CCS_API_KEY DBUS_SESSION_BUS_ADDRESS
set +e
dbus-run-session --config-file="$tmp/bus.conf" -- bash "$here" --inside "$@" \
    2> >(grep -v 'Failed to set fd limit' >&2)
rc=$?
exit $rc
