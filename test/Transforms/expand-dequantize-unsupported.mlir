// RUN: quant-opt %s -qc-expand-dequantize -verify-diagnostics -o /dev/null

// K-quants have a codec but no IR dequantization yet: the pass says so.
func.func @q4_k(%b: tensor<144xi8>) -> tensor<1x256xf32> {
  %q = qc.unpack %b : tensor<144xi8> -> !qc.qtensor<1x256, #qc.gguf<"Q4_K">>
  // expected-error @below {{no IR dequantization for ggml type Q4_K yet}}
  %w = qc.dequantize %q : !qc.qtensor<1x256, #qc.gguf<"Q4_K">> -> tensor<1x256xf32>
  return %w : tensor<1x256xf32>
}
