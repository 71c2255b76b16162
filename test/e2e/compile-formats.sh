#!/usr/bin/env bash
# compile-formats.sh DIR MODULE TEXT FORMAT...: quantizes MODULE to each
# FORMAT with a pure recipe, compiles it for the host (int8-activation
# kernels where the CPU has them) and for the generic target (f32), and
# prints one line per run of quant-run kld against the reference on the
# same weights: native runs on 71-token chunks (four tiles of 16, then 7
# single tokens) and 200-token chunks (a full span of the block kernels
# and a short one), generic runs on 64.
set -euo pipefail
dir=$1 module=$2 text=$3
shift 3
kld() { # label, compiled library, weights, ctx
  quant-run kld -m "$3" --compiled "$2" --baseline "$3" -f "$text" --ctx "$4" |
    awk -v label="$1 ctx $4" '
      /mean KLD/ { split($0, a, ","); kld = a[1] }
      /min cosine/ { n = split($0, a, ", "); c = a[n] }
      END { print label ": " kld ", " c }'
}
for format in "$@"; do
  base=$dir/$format
  echo "{\"pure\": true, \"default\": \"$format\"}" > "$base.json"
  quant-opt "$module" --qc-quantize-pipeline="recipe=$base.json method=rtn out=$base.safetensors" \
    -o "$base.mlir" 2> /dev/null
  quant-compile "$base.mlir" --emit=lib -o "$base.so" > /dev/null
  quant-compile "$base.mlir" --target=generic --emit=lib -o "$base-g.so" > /dev/null
  kld "$format native" "$base.so" "$base.safetensors" 71
  kld "$format native" "$base.so" "$base.safetensors" 200
  kld "$format generic" "$base-g.so" "$base.safetensors" 64
done
