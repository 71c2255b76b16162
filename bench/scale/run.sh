#!/usr/bin/env bash
# qc beside llama.cpp on a model of real size: wall time and peak resident
# memory of every step, on one F16 GGUF with a real architecture's shapes
# and synthetic weights (bench/cpu/make-synthetic-gguf.py; speed and memory
# only, the weights are noise), the same calibration text, windows and
# threads for both.
#   qc:        import, compile the float model, calibrate on its generated
#              kernels (imatrix), assign formats for BPW bits per weight
#              (sampled-row errors, no KL pass), quantize (imatrix method,
#              or METHOD=gptq: GPTQ block by block on the same windows),
#              pack, compile the quantized model
#   llama.cpp: llama-imatrix, llama-quantize Q4_K_M with that imatrix
# Writes bench/results/scale-<arch>.md.
#
# usage: bench/scale/run.sh LLAMA_CPP_BIN_DIR [QC_BIN_DIR]
#   ARCH=llama-3.2-1b (qwen2.5-0.5b, llama-2-7b)  CHUNKS=100  CTX=512
#   THREADS=2  BPW=4.5  TEXT=../shared/data/wikitext-2-raw-test.txt  WORK=dir
#   METHOD=imatrix (gptq)
#   CANDIDATES: the budget's formats (default: those quant-compile has
#   kernels for)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
llama=${1:?usage: $0 LLAMA_CPP_BIN_DIR [QC_BIN_DIR]}
qc=${2:-$root/build/bin}
arch=${ARCH:-llama-3.2-1b} chunks=${CHUNKS:-100} ctx=${CTX:-512}
threads=${THREADS:-2} bpw=${BPW:-4.5} method=${METHOD:-imatrix}
candidates=${CANDIDATES:-"ternary<2,16,27>;uniform<3,32,sym,f16>;uniform<4,32,sym,f16>;uniform<5,32,sym,f16>;uniform<6,32,sym,f16>;Q4_0;Q4_K;Q8_0;F16"}
source_text=${TEXT:-$root/../shared/data/wikitext-2-raw-test.txt}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
# Both sides read only the windows' text. llama-imatrix tokenizes all of
# its input before the first window, which on the synthetic vocabulary
# (151,936 made-up pieces) takes minutes for the 1.3 MB wikitext and would
# be timed as calibration. That vocabulary gives about one token a byte:
# CHUNKS x CTX x 2 bytes hold the windows (both sides check the count).
text=$work/calibration.txt
head -c $((chunks * ctx * 2)) "$source_text" > "$text"
gguf=$work/$arch-f16.gguf
[ -f "$gguf" ] || /usr/bin/python3 "$root/bench/cpu/make-synthetic-gguf.py" --arch "$arch" -o "$gguf"

rows=()
step() { # label command... : runs it under /usr/bin/time, records s and MB
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/log" 2>&1 ||
    { echo "$label failed:"; tail -20 "$work/log"; exit 1; }
  read -r s kb < "$work/time"
  rows+=("| $label | $s | $((kb / 1024)) |")
  echo "$label: $s s, $((kb / 1024)) MB"
}

cd "$work"
step "qc: import" "$qc/quant-import" "$gguf" -o m.mlir
step "qc: compile float" "$qc/quant-compile" m.mlir --emit=lib -o float.so
step "qc: calibrate (generated kernels)" "$qc/quant-run" imatrix -m m.safetensors \
  --compiled ./float.so --mmap -t "$threads" -f "$text" --ctx "$ctx" --chunks "$chunks" -o qc.imatrix
grep -q "$chunks chunks of $ctx tokens" "$work/log" ||
  { echo "qc calibrated on fewer than $chunks windows:"; tail -3 "$work/log"; exit 1; }
qc_window=$(awk -v s="${rows[-1]}" -v n="$chunks" 'BEGIN{split(s, f, "|"); printf "%.1f", f[3] / n}')
step "qc: assign $bpw bpw" "$qc/quant-opt" m.mlir --qc-calibrate="imatrix=qc.imatrix" \
  --qc-assign-formats="target-bpw=$bpw method=imatrix candidates=$candidates print-table=false" -o a.mlir
if [ "$method" = gptq ]; then
  step "qc: quantize (GPTQ block by block)" "$qc/quant-opt" a.mlir \
    --qc-quantize="method=gptq calib=$text ctx=$ctx chunks=$chunks out=q.safetensors" -o q.mlir
  split=$(grep '^gptq:' "$work/log" || true)
else
  step "qc: quantize (imatrix)" "$qc/quant-opt" a.mlir --qc-quantize="method=imatrix out=q.safetensors" -o q.mlir
fi
step "qc: pack" "$qc/quant-opt" q.mlir --qc-pack -o p.mlir
step "qc: compile quantized" "$qc/quant-compile" p.mlir --emit=lib -o q.so
step "llama.cpp: llama-imatrix" "$llama/llama-imatrix" -m "$gguf" -f "$text" -c "$ctx" \
  --chunks "$chunks" -t "$threads" -o llama.imatrix
grep -q "computing over $chunks chunks" "$work/log" ||
  { echo "llama-imatrix ran fewer than $chunks windows:"; grep -i chunks "$work/log"; exit 1; }
llama_pass=$(grep -o '[0-9.]* seconds per pass' "$work/log" | sed -n 1p | cut -d' ' -f1)
step "llama.cpp: llama-quantize Q4_K_M" "$llama/llama-quantize" --imatrix llama.imatrix \
  "$gguf" q4km.gguf Q4_K_M "$threads"

qcs=0 ls=0
for r in "${rows[@]}"; do
  s=$(echo "$r" | awk -F'|' '{print $3}')
  case $r in "| qc:"*) qcs=$(awk -v a="$qcs" -v b="$s" 'BEGIN{print a+b}') ;;
             *) ls=$(awk -v a="$ls" -v b="$s" 'BEGIN{print a+b}') ;; esac
done
suffix=""
[ "$method" = gptq ] && suffix=-gptq
out=$root/bench/results/scale-$arch$suffix.md
{
  echo "# Scale: synthetic $arch (F16 GGUF, $(du -mL "$gguf" | cut -f1) MB)"
  echo
  echo "$chunks windows x $ctx tokens of $(basename "$source_text") (its first $((chunks * ctx * 2)) bytes), $threads threads, budget $bpw bpw, method $method."
  echo "Synthetic weights: times and memory only. Peak RSS counts the mapped pages a step touched."
  echo
  echo "| step | wall s | peak RSS MB |"
  echo "|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "qc end to end: $qcs s; llama.cpp (imatrix + quantize): $ls s; ratio $(awk -v a="$qcs" -v b="$ls" 'BEGIN{printf "%.2f", a/b}')"
  echo "qc archive: $(du -m q.safetensors | cut -f1) MB; llama.cpp Q4_K_M: $(du -m q4km.gguf | cut -f1) MB"
  echo "calibration: qc $qc_window s a window (the calibrate step over $chunks, loading included); llama-imatrix $llama_pass s a pass (its first, as it prints it)"
  [ -z "${split:-}" ] || echo "qc's GPTQ step: ${split#gptq: }"
} > "$out"
cat "$out"
