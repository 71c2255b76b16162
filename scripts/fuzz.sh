#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS]: builds the libFuzzer targets under ASan + UBSan
# with the reader libraries instrumented for coverage (QC_FUZZ_COVERAGE)
# into ${QC_BUILD:-build}-fuzz, runs each target for SECONDS (default 120)
# from its seeds (test/fuzz/seeds/<target>; the model readers also from the
# hostile corpus), and prints per target its executions, the edges it
# covered and the crashes it found (inputs in <build>/fuzz-<target>/).
# FUZZ_TARGETS="a b" runs only those; FUZZ_JOBS=N runs N targets at once;
# FUZZ_RUNS=N stops a target after N executions (SECONDS still bounds it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QC_BUILD:-$root/build}-fuzz
seconds=${1:-120}
targets=(${FUZZ_TARGETS:-gguf llama2c safetensors onnx tokenizer tokenizer-json json attr})
QC_BUILD=$build QC_TARGETS="${targets[*]/%/-fuzzer}" "$root/scripts/build.sh" \
  -DQC_SANITIZE=ON -DQC_FUZZ=ON -DQC_FUZZ_COVERAGE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
run_one() {
  local t=$1 work=$build/fuzz-$1 corpora=("$root/test/fuzz/seeds/$1")
  case $t in gguf|llama2c|safetensors|onnx) corpora+=("$root/test/Import/corpus") ;; esac
  rm -rf "$work" && mkdir -p "$work/found"
  "$build/bin/$t-fuzzer" -max_total_time="$seconds" -runs="${FUZZ_RUNS:--1}" -max_len=65536 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" \
    "$work/found" "${corpora[@]}" > "$work/log" 2>&1 || true
}
jobs_at_once=${FUZZ_JOBS:-1}
for t in "${targets[@]}"; do
  while (( $(jobs -rp | wc -l) >= jobs_at_once )); do wait -n; done
  run_one "$t" &
done
wait
crashed=0
for t in "${targets[@]}"; do
  work=$build/fuzz-$t
  runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$work/log")
  edges=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | awk '{ print $2 }')
  found=$(find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
            -o -name 'oom-*' \) | wc -l)
  crashed=$((crashed + found))
  echo "$t: ${runs:-0} executions, ${edges:-0} edges, $found crashes"
done
exit $((crashed > 0))
