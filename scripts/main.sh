#!/usr/bin/env bash
# Installs dependencies, builds qc and runs the main job on the bundled
# stories260K model: import to IR + weights archive, generate text, quantize
# with the default pipeline (calibration, a 4.5-bit budget, GPTQ, packing),
# and print size, bits per weight, perplexity and KL divergence of the
# quantized model against the float one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
bin=${QC_BUILD:-$root/build}/bin
model=$root/models/stories260K
out=${QC_BUILD:-$root/build}/main-job
rm -rf "$out" && mkdir -p "$out"

echo "== import: stories260K (llama2.c) -> qc IR + weights archive"
"$bin/quant-import" "$model/stories260K.bin" --tokenizer "$model/tok512.bin" \
  -o "$out/stories260K.mlir"

echo "== generate (greedy, float)"
"$bin/quant-run" generate -m "$out/stories260K.safetensors" -p "Once upon a time" -n 64

# Calibration and evaluation text: ../shared's TinyStories excerpt (first 40%
# to calibrate, the rest to evaluate) when present, else stories the float
# model writes itself.
text=$root/../shared/data/tinystories-valid-excerpt.txt
if [ -f "$text" ]; then
  cut=$(( $(wc -c < "$text") * 2 / 5 ))
  head -c "$cut" "$text" > "$out/calib.txt"
  tail -c +$((cut + 1)) "$text" > "$out/eval.txt"
  source_text="TinyStories excerpt (../shared)"
else
  for p in "Once upon a time" "Tom and his dog" "The little bird"; do
    "$bin/quant-run" generate -m "$out/stories260K.safetensors" -p "$p" -n 500
  done > "$out/calib.txt"
  cp "$out/calib.txt" "$out/eval.txt"
  source_text="text the float model generated"
fi

echo "== quantize: --qc-quantize-pipeline=\"target-bpw=4.5 method=gptq\""
"$bin/quant-opt" "$out/stories260K.mlir" \
  --qc-quantize-pipeline="target-bpw=4.5 calib=$out/calib.txt ctx=128 method=gptq out=$out/stories260K.q.safetensors" \
  -o "$out/stories260K.q.mlir" 2> "$out/assignment.txt"
tail -1 "$out/assignment.txt"

echo "== generate (greedy, quantized)"
"$bin/quant-run" generate -m "$out/stories260K.q.safetensors" -p "Once upon a time" -n 64

echo "== results on $source_text (ctx 128)"
ppl() { "$bin/quant-run" perplexity -m "$1" -f "$out/eval.txt" --ctx 128 2>/dev/null |
        sed -n 's/.*PPL = \([0-9.]*\) .*/\1/p'; }
info() { "$bin/quant-run" info -m "$1" | sed -n "s/^$2: //p"; }
f=$out/stories260K.safetensors
q=$out/stories260K.q.safetensors
kl=$("$bin/quant-run" kld -m "$q" --baseline "$f" -f "$out/eval.txt" --ctx 128 |
     sed -n 's/mean KLD = \(.*\), top-1 agreement = \(.*\)/\1 \2/p')
printf '%-10s %12s %10s %10s %12s %10s\n' model "bytes" "bpw" "PPL" "KLD" "top-1"
printf '%-10s %12s %10s %10s %12s %10s\n' float "$(info "$f" tensors | sed 's/.*bytes //')" \
  "$(info "$f" 'bpw all')" "$(ppl "$f")" "-" "-"
printf '%-10s %12s %10s %10s %12s %10s\n' quantized "$(info "$q" tensors | sed 's/.*bytes //')" \
  "$(info "$q" 'bpw all')" "$(ppl "$q")" ${kl}
