#!/usr/bin/env bash
# Installs what qc builds and tests with on Debian bookworm (LLVM/MLIR 22).
set -euo pipefail
pkgs=(llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22 lld-22
      cmake ninja-build libgtest-dev libopenblas-dev liblapacke-dev python3
      python3-numpy python3-dev pybind11-dev python3-pytest python3-matplotlib
      python3-torch python3-onnx)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
fi
