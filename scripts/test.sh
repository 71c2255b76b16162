#!/usr/bin/env bash
# Installs dependencies, builds qc and runs every test (lit + unit + e2e).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
cd "${QC_BUILD:-$root/build}"
ctest --output-on-failure
