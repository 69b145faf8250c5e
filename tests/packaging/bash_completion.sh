#!/usr/bin/env bash
# The bash completion of ccsctl and ccs-emulator, called the way bash calls
# it (COMP_WORDS, COMP_CWORD, then COMPREPLY):
#
#   bash_completion.sh COMPLETION_DIR PATH/TO/ccsctl PATH/TO/ccs-emulator
#
# Profile names come from a settings file made here; device tokens from an
# emulator started here on free ports with a token file.
set -uo pipefail
DIR=$1
CCSCTL=$2
EMULATOR=$3
WORK=$(mktemp -d)
EMU_PID=
cleanup() {
    [ -n "$EMU_PID" ] && { kill "$EMU_PID" 2>/dev/null; wait "$EMU_PID" 2>/dev/null; }
    rm -rf "$WORK"
}
trap cleanup EXIT
export HOME=$WORK XDG_CONFIG_HOME=$WORK/config XDG_DATA_HOME=$WORK/data
unset CCS_EMULATOR_ADMIN_URL CCS_EMULATOR_ADMIN_TOKEN_FILE

# shellcheck source=/dev/null
. "$DIR/ccsctl" || exit 1
# shellcheck source=/dev/null
. "$DIR/ccs-emulator" || exit 1
failures=0

# complete FUNCTION WORD... : the last word is the one being completed.
complete_words() {
    local fn=$1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    "$fn"
}
# expect "WANTED|..." "UNWANTED|..." FUNCTION WORD...   (replies as bash would insert them)
expect() {
    local w wanted unwanted
    IFS='|' read -ra wanted <<<"$1"
    IFS='|' read -ra unwanted <<<"$2"
    shift 2
    complete_words "$@"
    local got=" ${COMPREPLY[*]} "
    for w in "${wanted[@]}"; do
        [[ $got == *" $w "* ]] || { echo "FAIL: '${*:2}' -> [${COMPREPLY[*]}], missing $w"; failures=$((failures + 1)); return; }
    done
    for w in "${unwanted[@]}"; do
        [[ $got != *" $w "* ]] || { echo "FAIL: '${*:2}' -> [${COMPREPLY[*]}], unexpected $w"; failures=$((failures + 1)); return; }
    done
    echo "ok: '${*:2}' -> [${COMPREPLY[*]}]"
}

# ccsctl: commands, flags from --help, values.
expect "send|listen|history|replay" "" _ccsctl "$CCSCTL" ""
expect "--import|--id" "--json" _ccsctl "$CCSCTL" history "--i"
expect "downstream|upstream|receipt" "" _ccsctl "$CCSCTL" history --kind ""
expect "listen" "send" _ccsctl "$CCSCTL" "li"
expect "--priority|--profile|--port" "--json" _ccsctl "$CCSCTL" send "--p"
expect "--wait-receipts|--window" "" _ccsctl "$CCSCTL" send --to x "--w"
expect "high|normal" "" _ccsctl "$CCSCTL" send --priority ""
expect "" "send|listen" _ccsctl "$CCSCTL" send --json ""
expect "" "--json" _ccsctl "$CCSCTL" listen -- "--j"

# Profile names from the settings file (the format QSettings writes).
mkdir -p "$XDG_CONFIG_HOME/ccs-admin"
cat >"$XDG_CONFIG_HOME/ccs-admin/ccs-admin.ini" <<'INI'
[General]
lastProfile=Staging

[profiles]
1\host=ccs.example.test
1\name=Staging
1\senderId=111
2\host=ccs.example.test
2\name=Prod EU
2\senderId=222
size=2
INI
expect "Staging|Prod\ EU" "" _ccsctl "$CCSCTL" listen --profile ""
expect "Staging" "Prod\ EU" _ccsctl "$CCSCTL" listen --profile "St"

# Device tokens from a running emulator's admin API, with a token file.
if command -v curl >/dev/null; then
    mkfifo "$WORK/start"
    "$EMULATOR" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --admin-token-file "$WORK/admin-token" \
        --data-dir "$WORK/emu" --device qa-phone-1 --json >"$WORK/start" 2>"$WORK/emu.err" &
    EMU_PID=$!
    exec {fd}<"$WORK/start"
    IFS= read -r -t 30 -u "$fd" line || { echo "FAIL: no start line"; cat "$WORK/emu.err"; exit 1; }
    cat <&"$fd" >/dev/null &
    port=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["admin_port"])' "$line")
    expect "" "emu-pixel-7-registered" _ccsctl "$CCSCTL" send --to ""   # no emulator named: nothing
    export CCS_EMULATOR_ADMIN_URL=http://127.0.0.1:$port CCS_EMULATOR_ADMIN_TOKEN_FILE=$WORK/admin-token
    expect "emu-pixel-7-registered|qa-phone-1" "" _ccsctl "$CCSCTL" send --to ""
    expect "qa-phone-1" "emu-pixel-7-registered" _ccsctl "$CCSCTL" send --to "qa"
    # The token reaches no command line: curl reads it from its standard input.
    token=$(head -n1 "$WORK/admin-token")
    [[ " $(declare -p COMPREPLY) " != *"$token"* ]] || { echo "FAIL: the token in COMPREPLY"; failures=$((failures + 1)); }
    unset CCS_EMULATOR_ADMIN_URL CCS_EMULATOR_ADMIN_TOKEN_FILE
else
    echo "skipped: device tokens (no curl)"
fi

# ccs-emulator: flags from --help, values.
expect "--admin-listen|--admin-port|--admin-token-file" "--listen" _ccs_emulator "$EMULATOR" "--admin"
expect "--health" "" _ccs_emulator "$EMULATOR" "--he"
expect "SERVICE_UNAVAILABLE" "INTERNAL_SERVER_ERROR" _ccs_emulator "$EMULATOR" --nack-code "S"
expect "0.0.0.0:5236" "" _ccs_emulator "$EMULATOR" --listen "0"
mkdir -p "$WORK/dirs/emu-data"
expect "$WORK/dirs/emu-data" "" _ccs_emulator "$EMULATOR" --data-dir "$WORK/dirs/e"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all completions as expected"
