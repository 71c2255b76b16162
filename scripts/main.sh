#!/usr/bin/env bash
# Installs dependencies, builds qc and runs the main job on the bundled
# stories260K model: import to IR + weights archive, generate text,
# measure perplexity (on ../shared's TinyStories excerpt when present).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
bin=${QC_BUILD:-$root/build}/bin
model=$root/models/stories260K
out=${QC_BUILD:-$root/build}/main-job
mkdir -p "$out"

echo "== import: stories260K (llama2.c) -> qc IR + weights archive"
"$bin/quant-import" "$model/stories260K.bin" --tokenizer "$model/tok512.bin" \
  -o "$out/stories260K.mlir"
grep -c 'qc.param' "$out/stories260K.mlir" | sed 's/^/   qc.param ops: /'

echo "== generate (greedy, float reference)"
"$bin/quant-run" generate -m "$out/stories260K.safetensors" -p "Once upon a time" -n 64

text=$root/../shared/data/tinystories-valid-excerpt.txt
if [ -f "$text" ]; then
  echo "== perplexity on $(basename "$text") (ctx 256)"
  "$bin/quant-run" perplexity -m "$out/stories260K.safetensors" -f "$text" --ctx 256
else
  echo "== perplexity skipped: ../shared/data/tinystories-valid-excerpt.txt not present"
fi
