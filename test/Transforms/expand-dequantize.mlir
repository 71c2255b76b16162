// RUN: quant-opt %s -split-input-file -qc-expand-dequantize | FileCheck %s

// Every format expands by its codec's layout. Q8_0: one f16 scale, then 32
// int8 codes (two's complement: XOR 128, minus 128) per block of 34 bytes;
// each weight's byte comes from a constant table indexed by its place in
// the block.
// CHECK-LABEL: func.func @q8_0
// CHECK-SAME: (%[[B:.+]]: tensor<68xi8>)
// CHECK-NOT: qc.unpack
// CHECK-NOT: qc.dequantize
// CHECK: %[[G:.+]] = tensor.generate
// CHECK: ^bb0(%[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-DAG: arith.divui %[[J]], %{{.+}} : index
// CHECK-DAG: %[[E:.+]] = arith.remui %[[J]], %{{.+}} : index
// CHECK: arith.bitcast %{{.+}} : i16 to f16
// CHECK: arith.extf %{{.+}} : f16 to f32
// CHECK: tensor.extract %{{.+}}[%[[E]]] : tensor<32xi32>
// CHECK: tensor.extract %[[B]][%{{.+}}] : tensor<68xi8>
// CHECK: arith.xori
// CHECK: arith.subi
// CHECK: arith.sitofp
// CHECK: arith.mulf
// CHECK: tensor.yield %{{.+}} : f32
// CHECK: } : tensor<2x32xf32>
// CHECK: return %[[G]]
func.func @q8_0(%b: tensor<68xi8>) -> tensor<2x32xf32> {
  %q = qc.unpack %b : tensor<68xi8> -> !qc.qtensor<2x32, #qc.gguf<"Q8_0">>
  %w = qc.dequantize %q : !qc.qtensor<2x32, #qc.gguf<"Q8_0">> -> tensor<2x32xf32>
  return %w : tensor<2x32xf32>
}

// -----

// Q6_K: two code pieces (low nibble, two high bits at bit 4) minus 32, and
// an int8 scale per 16 weights, all times the f16 d.
// CHECK-LABEL: func.func @q6_k
// CHECK: tensor.generate
// CHECK: tensor.extract %{{.+}} : tensor<256xi32>
// CHECK: arith.shrui
// CHECK: arith.andi %{{.+}}, %{{.+}} : i32
// CHECK: arith.ori
// CHECK: arith.subi
// CHECK: } : tensor<1x256xf32>
func.func @q6_k(%b: tensor<210xi8>) -> tensor<1x256xf32> {
  %q = qc.unpack %b : tensor<210xi8> -> !qc.qtensor<1x256, #qc.gguf<"Q6_K">>
  %w = qc.dequantize %q : !qc.qtensor<1x256, #qc.gguf<"Q6_K">> -> tensor<1x256xf32>
  return %w : tensor<1x256xf32>
}

// -----

// MXFP4: an e8m0 scale (the byte as an f32 exponent) and e2m1 codes through
// a value table.
// CHECK-LABEL: func.func @mxfp4
// CHECK: tensor.generate
// CHECK: arith.shli %{{.+}}, %{{.+}} : i32
// CHECK: arith.bitcast %{{.+}} : i32 to f32
// CHECK: tensor.extract %{{.+}} : tensor<16xf32>
// CHECK: } : tensor<1x32xf32>
func.func @mxfp4(%b: tensor<17xi8>) -> tensor<1x32xf32> {
  %q = qc.unpack %b : tensor<17xi8> -> !qc.qtensor<1x32, #qc.gguf<"MXFP4">>
  %w = qc.dequantize %q : !qc.qtensor<1x32, #qc.gguf<"MXFP4">> -> tensor<1x32xf32>
  return %w : tensor<1x32xf32>
}

// -----

// Uniform 3-bit asymmetric: scale and offset (bf16) then a bit stream, codes
// crossing byte boundaries read as two bytes (the second clamped to the
// tensor).
// CHECK-LABEL: func.func @uniform_asym
// CHECK: tensor.generate
// CHECK: arith.bitcast %{{.+}} : i16 to bf16
// CHECK: arith.minui
// CHECK: arith.shrui
// CHECK: arith.bitcast %{{.+}} : i16 to bf16
// CHECK: arith.addf
// CHECK: } : tensor<3x40xf32>
func.func @uniform_asym(%b: tensor<90xi8>) -> tensor<3x40xf32> {
  %q = qc.unpack %b : tensor<90xi8> -> !qc.qtensor<3x40, #qc.uniform<bits = 3, group = 16, symmetric = false, scale = bf16>>
  %w = qc.dequantize %q : !qc.qtensor<3x40, #qc.uniform<bits = 3, group = 16, symmetric = false, scale = bf16>> -> tensor<3x40xf32>
  return %w : tensor<3x40xf32>
}

// -----

// Ternary: scale index and weight trits (5 per byte), the codebook entry
// from a constant table times the f32 tensor scale in the header.
// CHECK-LABEL: func.func @ternary
// CHECK: tensor.generate
// CHECK: math.ipowi
// CHECK: arith.bitcast %{{.+}} : i32 to f32
// CHECK: tensor.extract %{{.+}} : tensor<27xf32>
// CHECK: } : tensor<2x20xf32>
func.func @ternary(%b: tensor<32xi8>) -> tensor<2x20xf32> {
  %q = qc.unpack %b : tensor<32xi8> -> !qc.qtensor<2x20, #qc.ternary<depth = 2, group = 16, scales = 27>>
  %w = qc.dequantize %q : !qc.qtensor<2x20, #qc.ternary<depth = 2, group = 16, scales = 27>> -> tensor<2x20xf32>
  return %w : tensor<2x20xf32>
}

// -----

// A dequantize of a value that is not unpacked bytes is left alone.
// CHECK-LABEL: func.func @not_unpacked
// CHECK: qc.dequantize
func.func @not_unpacked(%w: tensor<2x32xf32>) -> tensor<2x32xf32> {
  %q = qc.quantize %w : tensor<2x32xf32> -> !qc.qtensor<2x32, #qc.gguf<"Q8_0">>
  %d = qc.dequantize %q : !qc.qtensor<2x32, #qc.gguf<"Q8_0">> -> tensor<2x32xf32>
  return %d : tensor<2x32xf32>
}
