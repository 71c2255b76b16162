#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS]: builds the libFuzzer targets under ASan + UBSan
# with the reader libraries instrumented for coverage (QC_FUZZ_COVERAGE)
# into ${QC_BUILD:-build}-fuzz, runs each target for SECONDS (default 120)
# from the hostile corpus, and prints per target its executions, the edges
# it covered and the crashes it found (inputs in <build>/fuzz-<target>/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QC_BUILD:-$root/build}-fuzz
seconds=${1:-120}
targets=(gguf llama2c safetensors tokenizer)
QC_BUILD=$build QC_TARGETS="${targets[*]/%/-fuzzer}" "$root/scripts/build.sh" \
  -DQC_SANITIZE=ON -DQC_FUZZ=ON -DQC_FUZZ_COVERAGE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
crashed=0
for t in "${targets[@]}"; do
  work=$build/fuzz-$t
  rm -rf "$work" && mkdir -p "$work/found"
  "$build/bin/$t-fuzzer" -max_total_time="$seconds" -max_len=65536 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" \
    "$work/found" "$root/test/Import/corpus" > "$work/log" 2>&1 || true
  runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$work/log")
  edges=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | awk '{ print $2 }')
  found=$(find "$work" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' \
            -o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | wc -l)
  crashed=$((crashed + found))
  echo "$t: ${runs:-0} executions, ${edges:-0} edges, $found crashes"
done
exit $((crashed > 0))
