#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (address + undefined sanitizers) and
# runs each for the given number of seconds, seeded from tests/fuzz/corpus/.
#   tests/fuzz/run-fuzz.sh [SECONDS] [TARGET...]
# CCS_FUZZ_SEED=N fixes libFuzzer's random seed (CI uses 1, so that what it
# finds can be found again here); unset, every run explores afresh.
# Prints each target's executions; exits non-zero if a target found a crash
# (the reproducer is left in build/fuzz/artifacts/).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
seconds="${1:-60}"; shift || true
build="$top/build/fuzz"

# clang and its libFuzzer runtime, from Debian, if missing
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends clang libclang-rt-dev >/dev/null
fi
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -O1 -g" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCCS_BUILD_TESTS=OFF -DCCS_BUILD_BENCH=OFF -DCCS_BUILD_FUZZ=ON >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in "$here"/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
cmake --build "$build" --target "${targets[@]}" -j"$(nproc)" >/dev/null

status=0
mkdir -p "$build/artifacts"
for t in "${targets[@]}"; do
    seeds="$here/corpus/${t#fuzz_}"
    work="$build/corpus-${t#fuzz_}"
    mkdir -p "$work"
    [ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null || true
    log="$build/$t.log"
    if ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/$t" "$work" -max_total_time="$seconds" \
        -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 ${CCS_FUZZ_SEED:+-seed=$CCS_FUZZ_SEED} \
        -artifact_prefix="$build/artifacts/$t-" >"$log" 2>&1; then
        result=ok
    else
        result=FAILED; status=1
        # enough to reproduce from a CI log: the error, our frames, the input
        grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
        grep -E '^ +#[0-9]+ .* in .*(/ccscore/|/tests/fuzz/)' "$log" | head -12 || true
        crash=$(ls -t "$build/artifacts/$t-"* 2>/dev/null | head -1)
        if [ -n "$crash" ] && [ "$(stat -c %s "$crash")" -le 4096 ]; then
            echo "input (base64): $(base64 -w0 "$crash")"
        fi
    fi
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
    corpus=$(ls "$work" | wc -l)
    printf 'fuzz %-24s %s  executions=%s corpus=%s seconds=%s\n' "$t" "$result" "$execs" "$corpus" "$seconds"
done
exit $status
