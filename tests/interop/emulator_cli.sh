#!/usr/bin/env bash
# ccs-emulator's flags for services and containers, tested on the real program:
#
#   emulator_cli.sh CASE PATH/TO/ccs-emulator
#
# Each case starts its own emulators on free ports (port 0), waits for their
# start line (not for a fixed time) and stops them. Exit 77: cannot run here.
set -euo pipefail
CASE=$1
EMULATOR=$2
WORK=$(mktemp -d)
chmod 755 "$WORK"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
json_field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"; }

# start NAME [runner...] :: ARGS: starts the emulator, sets LINE to its first
# stdout line (the JSON start line) once it is printed.
start() {
    local name=$1
    shift
    local runner=()
    while [ "$1" != :: ]; do runner+=("$1"); shift; done
    shift
    mkfifo "$WORK/$name.fifo"
    "${runner[@]}" "$EMULATOR" "$@" >"$WORK/$name.fifo" 2>"$WORK/$name.err" &
    PIDS+=($!)
    exec {fd}<"$WORK/$name.fifo"
    if ! IFS= read -r -t 30 -u "$fd" LINE; then
        cat "$WORK/$name.err" >&2
        fail "$name: no start line within 30 s"
    fi
    # Keep reading in the background so the emulator never blocks on stdout.
    cat <&"$fd" >"$WORK/$name.out" &
    exec {fd}<&-
}

case $CASE in
admin_listen_needs_token)
    # A non-loopback admin address without a token file: refused, exit 2, stderr only.
    set +e
    "$EMULATOR" --listen 127.0.0.1:0 --data-dir "$WORK/data" --admin-listen 0.0.0.0:0 >"$WORK/out" 2>"$WORK/err"
    code=$?
    set -e
    [ "$code" -eq 2 ] || fail "exit code $code, expected 2"
    [ ! -s "$WORK/out" ] || fail "stdout not empty: $(cat "$WORK/out")"
    grep -q -- "--admin-token-file" "$WORK/err" || fail "stderr does not say what is missing: $(cat "$WORK/err")"
    ;;

admin_token_file)
    # A token file named by the operator: the admin API takes only that token,
    # the start line names the file, and the token appears in no output.
    token="tok-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    printf '%s\n' "$token" >"$WORK/admin-token"
    chmod 600 "$WORK/admin-token"
    start emu :: --listen 127.0.0.1:0 --admin-listen 0.0.0.0:0 --admin-token-file "$WORK/admin-token" \
        --data-dir "$WORK/data" --json
    [ "$(json_field "$LINE" admin_token_file)" = "$WORK/admin-token" ] || fail "no admin_token_file in $LINE"
    [ -z "$(json_field "$LINE" admin_token)" ] || fail "admin_token printed"
    port=$(json_field "$LINE" admin_port)
    url=http://127.0.0.1:$port
    code=$(printf 'header = "Authorization: Bearer %s"\n' "$token" |
        curl -s -o /dev/null -w '%{http_code}' --noproxy '*' -K - "$url/api/v1/status")
    [ "$code" = 200 ] || fail "status with the file's token: $code"
    code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' -H 'Authorization: Bearer wrong-token-0123456789' "$url/api/v1/status")
    [ "$code" = 401 ] || fail "status with a wrong token: $code"
    # Health: 0 with the right token, 1 with a wrong one, 0 without one (the API's 401 answers).
    "$EMULATOR" --health "$url" --admin-token-file "$WORK/admin-token" >"$WORK/h.out" || fail "--health with token"
    printf 'another-token-0123456789\n' >"$WORK/wrong-token"
    set +e
    "$EMULATOR" --health "$url/api/v1" --admin-token-file "$WORK/wrong-token" 2>"$WORK/h.err"
    code=$?
    set -e
    [ "$code" -eq 1 ] || fail "--health with a wrong token: exit $code"
    "$EMULATOR" --health "$url/" >/dev/null || fail "--health without a token"
    for f in "$WORK"/emu.err "$WORK"/h.out "$WORK"/h.err; do
        ! grep -q "$token" "$f" || fail "the token reached $f"
    done
    ! grep -q "$token" <<<"$LINE" || fail "the token reached the start line"
    ;;

admin_token_file_created)
    # A token file that does not exist yet is made, readable by its owner only.
    start emu :: --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --admin-token-file "$WORK/new-token" \
        --data-dir "$WORK/data" --json
    [ -f "$WORK/new-token" ] || fail "token file not created"
    [ "$(stat -c %a "$WORK/new-token")" = 600 ] || fail "token file mode $(stat -c %a "$WORK/new-token")"
    token=$(head -n1 "$WORK/new-token")
    [ "${#token}" -ge 32 ] || fail "token too short"
    ! grep -q -- "$token" <<<"$LINE" || fail "the token reached the start line"
    "$EMULATOR" --health "http://127.0.0.1:$(json_field "$LINE" admin_port)" --admin-token-file "$WORK/new-token" >/dev/null ||
        fail "--health with the created token"
    ;;

health_down)
    # Nothing listening: exit 1 (unhealthy), not 0 and not 2.
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    set +e
    "$EMULATOR" --health "http://127.0.0.1:$port" >"$WORK/out" 2>"$WORK/err"
    code=$?
    set -e
    [ "$code" -eq 1 ] || fail "exit $code, expected 1"
    grep -q unhealthy "$WORK/err" || fail "no message on stderr"
    # After the emulator stops, its health check fails too.
    start emu :: --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --data-dir "$WORK/data" --json
    url=http://127.0.0.1:$(json_field "$LINE" admin_port)
    "$EMULATOR" --health "$url" >/dev/null || fail "healthy emulator reported down"
    kill -TERM "${PIDS[0]}"
    wait "${PIDS[0]}" || true
    set +e
    "$EMULATOR" --health "$url" 2>/dev/null
    code=$?
    set -e
    [ "$code" -eq 1 ] || fail "stopped emulator: exit $code, expected 1"
    ;;

health_bad_url)
    set +e
    "$EMULATOR" --health not-a-url >"$WORK/out" 2>"$WORK/err"
    code=$?
    set -e
    [ "$code" -eq 2 ] || fail "exit $code, expected 2"
    grep -q -- "--health wants" "$WORK/err" || fail "stderr: $(cat "$WORK/err")"
    ;;

json_start_line)
    # The start line is one JSON object with what a script needs.
    start emu :: --listen 127.0.0.1:0 --data-dir "$WORK/data" --json
    python3 - "$LINE" <<'PY' || fail "start line: $LINE"
import json, sys
o = json.loads(sys.argv[1])
for k in ("version", "host", "port", "sender_id", "api_key_file", "certificate", "admin_url", "devices", "seed"):
    assert k in o, k
assert o["port"] > 0 and o["host"] == "127.0.0.1"
assert "api_key" not in o
PY
    ;;

non_root_data_dir)
    # The container runs as a user without privileges whose data directory is
    # a volume: run as "nobody" with a directory it owns, and see the files made
    # there, owned by it, the key readable by it only; a directory it cannot
    # write is a clear error (exit 2).
    [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null || { echo "needs root and runuser"; exit 77; }
    id nobody >/dev/null 2>&1 || { echo "no user nobody"; exit 77; }
    # Libraries "nobody" may not read where they were built (a home folder):
    # copy them next to a copy of the program.
    mkdir -p "$WORK/bin/lib"
    cp "$EMULATOR" "$WORK/bin/ccs-emulator"
    ldd "$EMULATOR" | awk '/QXmpp/ {print $3}' | while read -r lib; do cp -L "$lib" "$WORK/bin/lib/"; done
    chmod -R a+rX "$WORK/bin"
    EMULATOR="$WORK/bin/ccs-emulator"
    install -d -o nobody -m 700 "$WORK/data"
    start emu runuser -u nobody -- env LD_LIBRARY_PATH="$WORK/bin/lib" HOME="$WORK/data" :: \
        --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --admin-token-file "$WORK/data/admin-token" \
        --data-dir "$WORK/data" --json
    [ "$(json_field "$LINE" port)" -gt 0 ] || fail "start line: $LINE"
    key=$(json_field "$LINE" api_key_file)
    cert=$(json_field "$LINE" certificate)
    case $key in "$WORK/data"/*) ;; *) fail "API key file outside the data directory: $key" ;; esac
    for f in "$key" "$cert" "$WORK/data/admin-token"; do
        [ "$(stat -c %U "$f")" = nobody ] || fail "$f owned by $(stat -c %U "$f")"
    done
    [ "$(stat -c %a "$key")" = 600 ] || fail "API key file mode $(stat -c %a "$key")"
    [ "$(stat -c %a "$WORK/data/admin-token")" = 600 ] || fail "admin token mode"
    runuser -u nobody -- env LD_LIBRARY_PATH="$WORK/bin/lib" "$EMULATOR" --health \
        "http://127.0.0.1:$(json_field "$LINE" admin_port)" --admin-token-file "$WORK/data/admin-token" >/dev/null ||
        fail "--health as nobody"
    install -d -o root -m 755 "$WORK/root-owned"
    set +e
    runuser -u nobody -- env LD_LIBRARY_PATH="$WORK/bin/lib" HOME="$WORK/data" "$EMULATOR" \
        --listen 127.0.0.1:0 --no-admin --data-dir "$WORK/root-owned/data" >"$WORK/out" 2>"$WORK/err"
    code=$?
    set -e
    [ "$code" -eq 2 ] || fail "unwritable data directory: exit $code"
    grep -q "root-owned" "$WORK/err" || fail "the error does not name the directory: $(cat "$WORK/err")"
    ;;

*)
    fail "unknown case $CASE"
    ;;
esac
echo "ok: $CASE"
