#!/usr/bin/env bash
# Installs dependencies, builds qc and runs the main job on the bundled
# stories260K model.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
bin=${QC_BUILD:-$root/build}/bin
echo "== qc passes"
"$bin/quant-opt" --help | grep -- '--qc-'
