#!/usr/bin/env bash
# Side by side: qc's float reference against llama.cpp on the two real
# llama2.c models in ../shared (read directly and as GGUF made by
# llama-convert-llama2c-to-ggml): perplexity with llama-perplexity's method
# and greedy text. Writes bench/results/import.md.
#
# usage: bench/import/run.sh LLAMA_CPP_BIN_DIR [QC_BIN_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
llama=${1:?usage: $0 LLAMA_CPP_BIN_DIR [QC_BIN_DIR]}
qc=${2:-$root/build/bin}
shared=${QC_SHARED:-$root/../shared}
ctx=${CTX:-256}
threads=${THREADS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tr '\n' ' ' < "$shared/data/tinystories-valid-excerpt.txt" > "$work/tiny-nonl.txt"
out="$root/bench/results/import.md"
{
  echo "# Float reference vs llama.cpp"
  echo
  echo "Perplexity with llama-perplexity's method (ctx $ctx, second half of each window scored),"
  echo "$threads threads for llama.cpp; greedy text from \"Once upon a time\", 32 tokens."
  echo "BabyLlama's vocabulary has no newline: its text is the excerpt with newlines as spaces."
  echo
  echo "| model | file | text | llama.cpp PPL | qc PPL | qc/llama.cpp | greedy 32 identical |"
  echo "|---|---|---|---|---|---|---|"
} > "$out"

run() { # name bin tok text
  local name=$1 bin=$2 tok=$3 text=$4
  "$llama/llama-convert-llama2c-to-ggml" --copy-vocab-from-model "$tok" \
    --llama2c-model "$bin" --llama2c-output-model "$work/$name.gguf" > /dev/null 2>&1
  local ref ours_bin ours_gguf
  ref=$("$llama/llama-perplexity" -m "$work/$name.gguf" -f "$text" -c "$ctx" -t "$threads" 2>&1 |
        sed -n 's/.*Final estimate: PPL over .* = \([0-9.]*\) .*/\1/p')
  ours_bin=$("$qc/quant-run" perplexity -m "$bin" --tokenizer "$tok" -f "$text" --ctx "$ctx" 2>/dev/null |
             sed -n 's/.*PPL = \([0-9.]*\) .*/\1/p')
  ours_gguf=$("$qc/quant-run" perplexity -m "$work/$name.gguf" -f "$text" --ctx "$ctx" 2>/dev/null |
              sed -n 's/.*PPL = \([0-9.]*\) .*/\1/p')
  local lt qt same
  lt=$("$llama/llama-cli" -m "$work/$name.gguf" -p "Once upon a time" -n 32 --top-k 1 -t "$threads" \
       --no-display-prompt 2>/dev/null < /dev/null | head -c 400)
  qt=$("$qc/quant-run" generate -m "$work/$name.gguf" -p "Once upon a time" -n 32 | sed 's/^Once upon a time//' | head -c 400)
  [ "$(echo "$lt" | tr -d '\n' | sed 's/ *$//')" = "$(echo "$qt" | tr -d '\n' | sed 's/ *$//')" ] && same=yes || same="no: llama.cpp '$lt' qc '$qt'"
  for row in "llama2.c .bin:$ours_bin" "GGUF:$ours_gguf"; do
    local kind=${row%%:*} ours=${row#*:}
    echo "| $name | $kind | $(basename "$text") | $ref | $ours | $(awk -v a="$ours" -v b="$ref" 'BEGIN{printf "%.5f", a/b}') | $same |" >> "$out"
  done
}

run stories260K "$shared/models/stories260K/stories260K.bin" "$shared/models/stories260K/tok512.bin" \
  "$shared/data/tinystories-valid-excerpt.txt"
run BabyLlama-105 "$shared/models/babyllama-tok105/tok105_model5000.bin" \
  "$shared/models/babyllama-tok105/tok105.bin" "$work/tiny-nonl.txt"
cat "$out"
