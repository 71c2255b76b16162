#!/usr/bin/env bash
# Installs dependencies, builds qc and runs the main job on the bundled
# stories260K model: import to IR + weights archive, quantize with the
# default pipeline (calibration, a 4.5-bit budget, GPTQ, packing), compile
# float and quantized models to native executables (generated kernels +
# runtime), run them, and print size, bits per weight, perplexity, KL
# divergence and tokens/s of both.
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

# Calibration text: ../shared's TinyStories excerpt when present; evaluation
# text: its independent tinystories-eval.txt (the first 24,000 characters).
# Without ../shared, stories the float model writes itself.
text=$root/../shared/data/tinystories-valid-excerpt.txt
if [ -f "$text" ] && [ -f "$root/../shared/data/tinystories-eval.txt" ]; then
  cp "$text" "$out/calib.txt"
  head -c 24000 "$root/../shared/data/tinystories-eval.txt" > "$out/eval.txt"
  source_text="independent TinyStories text (../shared/data/tinystories-eval.txt)"
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

echo "== compile: quant-compile -> native executables (and libraries for quant-run)"
for m in stories260K stories260K.q; do
  "$bin/quant-compile" "$out/$m.mlir" -o "$out/$m" 2>/dev/null
  "$bin/quant-compile" "$out/$m.mlir" --emit=lib -o "$out/$m.so" 2>/dev/null
done
echo "== run: $out/stories260K -p \"Once upon a time\" -n 64 (float)"
"$out/stories260K" -p "Once upon a time" -n 64
echo "== run: $out/stories260K.q -p \"Once upon a time\" -n 64 (quantized)"
"$out/stories260K.q" -p "Once upon a time" -n 64

echo "== results on $source_text (ctx 128), compiled models, $(nproc) threads"
f=$out/stories260K.safetensors
q=$out/stories260K.q.safetensors
ppl() { "$bin/quant-run" perplexity -m "$1" --compiled "$2" -f "$out/eval.txt" --ctx 128 2>/dev/null |
        sed -n 's/.*PPL = \([0-9.]*\) .*/\1/p'; }
info() { "$bin/quant-run" info -m "$1" | sed -n "s/^$2: //p"; }
speed() { "$bin/quant-run" bench -m "$1" --compiled "$2" --pp 128 --tg 128 -r 3 |
          sed -n "s/^$3[0-9]*: \([0-9.]*\) tok\/s/\1/p"; }
kl=$("$bin/quant-run" kld -m "$q" --compiled "$out/stories260K.q.so" --baseline "$f" \
       -f "$out/eval.txt" --ctx 128 |
     sed -n 's/mean KLD = \(.*\), top-1 agreement = \(.*\)/\1 \2/p')
printf '%-10s %10s %7s %8s %10s %8s %12s %12s\n' model bytes bpw PPL KLD top-1 "pp128 tok/s" "tg128 tok/s"
printf '%-10s %10s %7s %8s %10s %8s %12s %12s\n' float "$(info "$f" tensors | sed 's/.*bytes //')" \
  "$(info "$f" 'bpw all')" "$(ppl "$f" "$out/stories260K.so")" "-" "-" \
  "$(speed "$f" "$out/stories260K.so" pp)" "$(speed "$f" "$out/stories260K.so" tg)"
printf '%-10s %10s %7s %8s %10s %8s %12s %12s\n' quantized "$(info "$q" tensors | sed 's/.*bytes //')" \
  "$(info "$q" 'bpw all')" "$(ppl "$q" "$out/stories260K.q.so")" ${kl} \
  "$(speed "$q" "$out/stories260K.q.so" pp)" "$(speed "$q" "$out/stories260K.q.so" tg)"

python=${QC_BUILD:-$root/build}/python
if [ -d "$python/qc" ]; then
  echo "== Python: python/examples/budgets.py (three budgets, evaluated and plotted)"
  PYTHONPATH=$python /usr/bin/python3 "$root/python/examples/budgets.py" "$out/python" 2>/dev/null
fi
