#!/usr/bin/env bash
# One command-line convention, checked on one program:
#
#   cli_conventions.sh PATH/TO/PROGRAM CASE
#
# CASE: help, h, version, end_of_options, unknown_flag, missing_argument,
# bad_value, no_color. Each says the arguments, the exit code and which
# stream must carry the answer (the other must stay empty).
set -euo pipefail
PROGRAM=$1
CASE=$2
NAME=$(basename "$PROGRAM")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# No display and no settings of the user: --help and errors need neither.
export HOME=$WORK XDG_CONFIG_HOME=$WORK/config XDG_DATA_HOME=$WORK/data
unset DISPLAY WAYLAND_DISPLAY QT_QPA_PLATFORM CCS_API_KEY

# Per program: a flag that wants a value, and a bad value for one.
case $NAME in
    ccs-admin) missing=(--tab) bad=(--color-scheme purple) ;;
    ccsctl) missing=(listen --timeout) bad=(listen --port 99999) ;;
    ccs-emulator) missing=(--listen) bad=(--listen nonsense) ;;
    *) echo "unknown program $NAME" >&2; exit 1 ;;
esac

# run EXPECTED_CODE STREAM(stdout|stderr) ARGS...
run() {
    local expected=$1 stream=$2
    shift 2
    set +e
    timeout 20 "$PROGRAM" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
    local code=$?
    set -e
    local quiet=err
    [ "$stream" = stderr ] && quiet=out
    local loud=${stream#std}
    [ "$code" -eq "$expected" ] || { echo "FAIL: $NAME $*: exit $code, expected $expected"; cat "$WORK/err"; exit 1; }
    [ -s "$WORK/$loud" ] || { echo "FAIL: $NAME $*: nothing on $stream"; exit 1; }
    [ ! -s "$WORK/$quiet" ] || { echo "FAIL: $NAME $*: unexpected output on the other stream:"; cat "$WORK/$quiet"; exit 1; }
    if grep -q $'\x1b' "$WORK/out" "$WORK/err"; then echo "FAIL: $NAME $*: escape sequences (colour) in the output"; exit 1; fi
    echo "ok: $NAME $* -> exit $code on $stream"
}

case $CASE in
    help)
        run 0 stdout --help
        grep -q "^Usage: " "$WORK/out" || { echo "FAIL: no Usage line"; exit 1; }
        ;;
    h) run 0 stdout -h ;;
    version)
        run 0 stdout --version
        grep -qx "$NAME [0-9][0-9.]*" "$WORK/out" || { echo "FAIL: version line: $(cat "$WORK/out")"; exit 1; }
        ;;
    end_of_options)
        # After "--", "--no-such-flag" is not an option: --version still answers.
        run 0 stdout --version -- --no-such-flag
        ;;
    unknown_flag)
        run 2 stderr --no-such-flag
        grep -q "no-such-flag" "$WORK/err" || { echo "FAIL: the error does not name the flag"; exit 1; }
        ;;
    missing_argument)
        run 2 stderr "${missing[@]}"
        grep -qi "missing value" "$WORK/err" || { echo "FAIL: $(cat "$WORK/err")"; exit 1; }
        ;;
    bad_value) run 2 stderr "${bad[@]}" ;;
    no_color)
        # None of the programs colours its output: with NO_COLOR, with a
        # colour terminal, and on a terminal (script(1) gives it one).
        NO_COLOR=1 run 0 stdout --help
        NO_COLOR=1 run 2 stderr --no-such-flag
        TERM=xterm-256color CLICOLOR_FORCE=1 run 2 stderr --no-such-flag
        if command -v script >/dev/null; then
            TERM=xterm-256color script -qec "$(printf '%q ' "$PROGRAM") --no-such-flag" /dev/null >"$WORK/tty" || true
            if grep -q $'\x1b' "$WORK/tty"; then echo "FAIL: escape sequences on a terminal"; exit 1; fi
            grep -q "no-such-flag" "$WORK/tty" || { echo "FAIL: nothing on the terminal"; exit 1; }
            echo "ok: $NAME --no-such-flag on a terminal: no escape sequences"
        fi
        ;;
    *) echo "unknown case $CASE" >&2; exit 1 ;;
esac
