#!/usr/bin/env bash
# compile-formats.sh DIR MODULE TEXT FORMAT...: quantizes MODULE to each
# FORMAT with a pure recipe ("all": every registered format that takes no
# parameters, from quant-run formats; a FORMAT ending in .gguf is a file
# llama.cpp made, taken as it is), compiles it for the host (int8-
# activation kernels where the CPU has them; QC_TARGET names another
# kernel target the host runs) and for the generic target
# (f32), and prints one line per run of quant-run kld against the reference
# on the same weights: native runs on 71-token chunks (four tiles of 16,
# then 7 single tokens) and 200-token chunks (a full span of the block
# kernels and a short one), generic runs on 64. A run past its bound (native
# KLD 1e-4 and cosine 0.999, generic KLD 1e-6 and cosine 0.99999) is marked
# OUT OF BOUNDS; the last line counts the formats.
set -euo pipefail
dir=$1 module=$2 text=$3 target=${QC_TARGET:-native}
shift 3
formats=("$@")
if [ "${formats[*]}" = all ]; then
  mapfile -t formats < <(quant-run formats | awk '$1 != "uniform" && $1 != "ternary" { print $1 }')
fi
kld() { # label, compiled library, weights, ctx, KLD bound, cosine bound
  quant-run kld -m "$3" --compiled "$2" --baseline "$3" -f "$text" --ctx "$4" |
    awk -v label="$1 ctx $4" -v maxKld="$5" -v minCos="$6" '
      /mean KLD/ { split($0, a, ","); kld = a[1]; split(kld, k, "= "); kv = k[2] }
      /min cosine/ { n = split($0, a, ", "); c = a[n]; split(c, m, "= "); cv = m[2] }
      END { print label ": " kld ", " c ((kv + 0 > maxKld || cv + 0 < minCos) ? "  OUT OF BOUNDS" : "") }'
}
quiet() { # a command's output only when it fails
  "$@" > "$dir/log" 2>&1 || { cat "$dir/log" >&2; return 1; }
}
for format in "${formats[@]}"; do
  if [[ $format == *.gguf ]]; then
    source=$format weights=$format
    format=$(basename "$format" .gguf)
    base=$dir/$format
  else
    base=$dir/$format
    echo "{\"pure\": true, \"default\": \"$format\"}" > "$base.json"
    quiet quant-opt "$module" -o "$base.mlir" \
      --qc-quantize-pipeline="recipe=$base.json method=rtn out=$base.safetensors"
    source=$base.mlir weights=$base.safetensors
  fi
  quiet quant-compile "$source" --target="$target" --emit=lib -o "$base.so"
  quiet quant-compile "$source" --target=generic --emit=lib -o "$base-g.so"
  kld "$format $target" "$base.so" "$weights" 71 1e-4 0.999
  kld "$format $target" "$base.so" "$weights" 200 1e-4 0.999
  kld "$format generic" "$base-g.so" "$weights" 64 1e-6 0.99999
done
echo "formats: ${#formats[@]}"
