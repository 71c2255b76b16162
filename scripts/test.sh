#!/usr/bin/env bash
# Installs dependencies, builds qc and runs every test (lit + unit + e2e),
# then builds again under AddressSanitizer + UndefinedBehaviorSanitizer with
# the libFuzzer targets and runs the tests there too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QC_BUILD:-$root/build}
"$root/scripts/deps.sh"
QC_BUILD=$build "$root/scripts/build.sh"
# ONNX Runtime for the ONNX tests (test/ONNX): onnxruntime-node from npm,
# its CPU library only (--ignore-scripts skips the GPU download). Without
# npm or the registry those tests report unsupported.
if [ -z "${QC_ONNXRUNTIME:-}" ] && command -v npm >/dev/null; then
  if [ -d "$build/ort/node_modules/onnxruntime-node" ] ||
     npm install --prefix "$build/ort" --ignore-scripts --no-audit --no-fund \
       onnxruntime-node@1.30.0 >/dev/null 2>&1; then
    export QC_ONNXRUNTIME=$build/ort/node_modules
  else
    echo "note: npm could not install onnxruntime-node; ONNX Runtime tests skipped"
  fi
fi
(cd "$build" && ctest --output-on-failure)
QC_BUILD=$build-asan "$root/scripts/build.sh" -DQC_SANITIZE=ON -DQC_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo
cd "$build-asan"
ctest --output-on-failure
