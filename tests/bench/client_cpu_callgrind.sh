#!/usr/bin/env bash
# The client's instructions per downstream message: `ccsctl send` under callgrind
# with SMALL and then LARGE messages against one emulator (this tree's,
# --answer-jitter-ms 0); (instructions(LARGE) - instructions(SMALL)) / (LARGE - SMALL),
# so start-up cancels out. Instruction counts do not move with the machine's load.
#   tests/bench/client_cpu_callgrind.sh CCSCTL [CCSCTL...]   (SMALL=1000 LARGE=3000 by default)
# Keeps the callgrind files in $OUT (default: a temporary directory, removed) for
# callgrind_annotate --inclusive=yes.
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
EMU="$top/build/release/app/ccs-emulator"
small="${SMALL:-1000}" large="${LARGE:-3000}"
[ $# -ge 1 ] || { echo "usage: $0 CCSCTL [CCSCTL...]" >&2; exit 2; }
data=$(mktemp -d)
out="${OUT:-$data}"
mkdir -p "$out"
trap 'kill $emu 2>/dev/null || true; rm -rf "$data"' EXIT
"$EMU" --listen 127.0.0.1:0 --json --answer-jitter-ms 0 --data-dir "$data" > "$data/start.json" 2>/dev/null &
emu=$!
for _ in $(seq 50); do [ -s "$data/start.json" ] && break; sleep 0.2; done
read -r port sender keyfile cert < <(python3 -c "import json;d=json.load(open('$data/start.json'));print(d['port'],d['sender_id'],d['api_key_file'],d['certificate'])")
CCS_API_KEY="$(head -n1 "$keyfile")"
export CCS_API_KEY
i=0
for client in "$@"; do
  i=$((i + 1))
  declare -A total=()
  for n in "$small" "$large"; do
    valgrind --tool=callgrind --callgrind-out-file="$out/client$i-$n.cg" "$client" send --host 127.0.0.1 \
        --port "$port" --sender-id "$sender" --ca-cert "$cert" --to emu-pixel-7-registered \
        --data '{"hello":"world"}' --count "$n" --timeout 300 > "$data/out" 2> "$data/err" || true
    acked=$(grep -oE ', acked [0-9]+' "$data/out" | tail -1 | cut -c3-)
    total[$n]=$(grep -oE 'Collected : [0-9]+' "$data/err" | grep -oE '[0-9]+$')
    echo "$client --count $n: ${total[$n]} instructions ($acked)"
  done
  echo "$client: $(( (total[$large] - total[$small]) / (large - small) )) instructions per message"
done
