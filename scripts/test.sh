#!/usr/bin/env bash
# Installs dependencies, builds qc and runs every test (lit + unit + e2e),
# then builds again under AddressSanitizer + UndefinedBehaviorSanitizer with
# the libFuzzer targets and runs the tests there too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QC_BUILD:-$root/build}
"$root/scripts/deps.sh"
QC_BUILD=$build "$root/scripts/build.sh"
(cd "$build" && ctest --output-on-failure)
QC_BUILD=$build-asan "$root/scripts/build.sh" -DQC_SANITIZE=ON -DQC_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo
cd "$build-asan"
ctest --output-on-failure
