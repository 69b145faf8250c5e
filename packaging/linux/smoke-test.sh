#!/bin/sh
# Smoke test of an installed CCS Admin (the .deb), with nothing but sh and
# the package's programs: the window's --version offscreen, ccsctl --help,
# and a short session in which ccs-emulator and `ccsctl send` exchange a
# message with its ACK and delivery receipt over TLS on loopback.
# packaging/linux/test-deb-in-clean-root.sh runs it inside a clean Debian 12
# root; CI runs it in a debian:12 container. Exit status 0: all good.
set -eu

WORK=$(mktemp -d)
EMU_PID=
cleanup() {
    [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

step() { printf '\n$ %s\n' "$*"; }

# json_get FILE NAME...: the first of the named fields in a one-line JSON
# object (string or number), searched anywhere in the line.
json_get() {
    file=$1
    shift
    for name in "$@"; do
        value=$(grep -o "\"$name\" *: *\(\"[^\"]*\"\|[0-9][0-9]*\)" "$file" | head -n1 \
            | sed -e "s/^\"$name\" *: *//" -e 's/^"//' -e 's/"$//')
        if [ -n "$value" ]; then
            printf '%s' "$value"
            return 0
        fi
    done
    return 1
}

step "QT_QPA_PLATFORM=offscreen ccs-admin --version"
QT_QPA_PLATFORM=offscreen ccs-admin --version
step "ccsctl --help | head -n 5"
ccsctl --help >"$WORK/help.txt"
head -n 5 "$WORK/help.txt"
step "ccs-emulator --version"
ccs-emulator --version

# A free loopback port, a fresh data folder (certificate, sender ID, key
# file) and one registered device whose token we choose.
DEVICE=ccs-smoke-test-device
step "ccs-emulator --listen 127.0.0.1:0 --data-dir \$WORK/emulator --device $DEVICE --json &"
ccs-emulator --listen 127.0.0.1:0 --data-dir "$WORK/emulator" --device "$DEVICE" --json \
    >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
EMU_PID=$!
i=0
until grep -q '"port"' "$WORK/emulator.out" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 150 ] || ! kill -0 "$EMU_PID" 2>/dev/null; then
        echo "the emulator printed no JSON line with its port:" >&2
        cat "$WORK/emulator.out" "$WORK/emulator.err" >&2
        exit 1
    fi
    sleep 0.1
done
head -n1 "$WORK/emulator.out" >"$WORK/emulator.json"
# Shown without the admin API's bearer token (the API key is only in its file).
sed -e 's/\("admin_token"\) *: *"[^"]*"/\1:"***"/' "$WORK/emulator.json"

PORT=$(json_get "$WORK/emulator.json" port)
SENDER=$(json_get "$WORK/emulator.json" sender_id)
KEY_FILE=$(json_get "$WORK/emulator.json" api_key_file)
CERT=$(json_get "$WORK/emulator.json" certificate)
# The name the emulator's certificate carries, as for the real service.
DOMAIN=gcm.googleapis.com
CCS_API_KEY=$(cat "$KEY_FILE")
export CCS_API_KEY

step "CCS_API_KEY=(from $KEY_FILE) ccsctl send --host 127.0.0.1 --port $PORT --sender-id $SENDER --domain $DOMAIN --ca-cert $CERT --to $DEVICE --receipt --wait-receipts 10 --data '{\"hello\":\"from the package\"}' --json"
set +e
ccsctl send --host 127.0.0.1 --port "$PORT" --sender-id "$SENDER" --domain "$DOMAIN" \
    --ca-cert "$CERT" --to "$DEVICE" --receipt --wait-receipts 10 \
    --data '{"hello":"from the package"}' --json >"$WORK/send.out" 2>"$WORK/send.err"
rc=$?
set -e
cat "$WORK/send.out"
cat "$WORK/send.err" >&2
echo "(ccsctl exit status $rc)"
if [ "$rc" -ne 0 ]; then
    echo "FAILED: the message was not ACKed" >&2
    exit 1
fi
if ! grep -q '"event" *: *"receipt"' "$WORK/send.out"; then
    echo "FAILED: no delivery receipt came back" >&2
    exit 1
fi
echo "OK: ACK and delivery receipt received"
