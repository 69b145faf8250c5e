#!/usr/bin/env bash
# The client's CPU per downstream message, whole process: user+sys (/usr/bin/time)
# of `ccsctl send --count 50000` divided by 50,000, for two ccsctl builds run
# alternately against one emulator (this tree's, --answer-jitter-ms 0).
#   tests/bench/client_cpu_ab.sh OTHER_CCSCTL [RUNS]
# "before" is OTHER_CCSCTL (e.g. a build of main), "after" this tree's build/release.
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
EMU="$top/build/release/app/ccs-emulator"
declare -A CLIENT=([before]="${1:?usage: $0 OTHER_CCSCTL [RUNS]}" [after]="$top/build/release/app/ccsctl")
runs="${2:-5}"
data=$(mktemp -d)
trap 'kill $emu 2>/dev/null || true; rm -rf "$data"' EXIT
"$EMU" --listen 127.0.0.1:0 --json --answer-jitter-ms 0 --data-dir "$data" > "$data/start.json" 2>/dev/null &
emu=$!
for _ in $(seq 50); do [ -s "$data/start.json" ] && break; sleep 0.2; done
read -r port sender keyfile cert < <(python3 -c "import json;d=json.load(open('$data/start.json'));print(d['port'],d['sender_id'],d['api_key_file'],d['certificate'])")
CCS_API_KEY="$(head -n1 "$keyfile")"
export CCS_API_KEY
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
  for which in before after; do
    /usr/bin/time -f "%U %S %e" -o "$data/t" "${CLIENT[$which]}" send --host 127.0.0.1 --port "$port" \
        --sender-id "$sender" --ca-cert "$cert" --to emu-pixel-7-registered --data '{"hello":"world"}' \
        --count 50000 --timeout 300 > "$data/out" 2>&1 || true
    read -r u s e < "$data/t"
    acked=$(grep -oE ', acked [0-9]+' "$data/out" | tail -1 | cut -c3- || true)
    python3 -c "u,s,e=$u,$s,$e;print(f'$which run $run: user {u:.2f} s, sys {s:.2f} s, wall {e:.2f} s, CPU per message {(u+s)/50000*1e6:.1f} us ($acked)')"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
