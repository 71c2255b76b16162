#!/usr/bin/env bash
# Configures and builds qc into ${QC_BUILD:-build} with clang-22 + lld-22,
# linking the shared libMLIR / libLLVM (short links, no static copies).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QC_BUILD:-$root/build}
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=/usr/lib/llvm-22/bin/clang \
  -DCMAKE_CXX_COMPILER=/usr/lib/llvm-22/bin/clang++ \
  -DLLVM_USE_LINKER=lld \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
  "$@" >/dev/null
# QC_TARGETS: build only these targets (space-separated).
cmake --build "$build" ${QC_TARGETS:+--target $QC_TARGETS}
