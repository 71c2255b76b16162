// RUN: quant-opt %s -split-input-file -qc-expand-dequantize | FileCheck %s

// Q8_0: one f16 scale then 32 int8 codes per block of 34 bytes.
// CHECK-LABEL: func.func @q8_0
// CHECK-SAME: (%[[B:.+]]: tensor<68xi8>)
// CHECK-NOT: qc.unpack
// CHECK-NOT: qc.dequantize
// CHECK: %[[G:.+]] = tensor.generate
// CHECK: ^bb0(%[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-DAG: arith.divui %[[J]], %{{.+}} : index
// CHECK-DAG: arith.remui %[[J]], %{{.+}} : index
// CHECK: tensor.extract %[[B]][%{{.+}}] : tensor<68xi8>
// CHECK: arith.bitcast %{{.+}} : i16 to f16
// CHECK: arith.extf %{{.+}} : f16 to f32
// CHECK: arith.extsi %{{.+}} : i8 to i32
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

// Q4_0: weights j and j+16 share byte j (low nibble, then high), minus 8.
// CHECK-LABEL: func.func @q4_0
// CHECK: tensor.generate
// CHECK: arith.shrui
// CHECK: arith.andi %{{.+}}, %{{.+}} : i32
// CHECK: arith.subi
// CHECK: } : tensor<1x64xf32>
func.func @q4_0(%b: tensor<36xi8>) -> tensor<1x64xf32> {
  %q = qc.unpack %b : tensor<36xi8> -> !qc.qtensor<1x64, #qc.gguf<"Q4_0">>
  %w = qc.dequantize %q : !qc.qtensor<1x64, #qc.gguf<"Q4_0">> -> tensor<1x64xf32>
  return %w : tensor<1x64xf32>
}

// -----

// Uniform 3-bit asymmetric: scale and offset (bf16) then a bit stream, codes
// crossing byte boundaries read as two bytes.
// CHECK-LABEL: func.func @uniform_asym
// CHECK: tensor.generate
// CHECK: arith.bitcast %{{.+}} : i16 to bf16
// CHECK: arith.bitcast %{{.+}} : i16 to bf16
// CHECK: arith.minui
// CHECK: arith.shrui
// CHECK: arith.addf
// CHECK: } : tensor<3x40xf32>
func.func @uniform_asym(%b: tensor<90xi8>) -> tensor<3x40xf32> {
  %q = qc.unpack %b : tensor<90xi8> -> !qc.qtensor<3x40, #qc.uniform<bits = 3, group = 16, symmetric = false, scale = bf16>>
  %w = qc.dequantize %q : !qc.qtensor<3x40, #qc.uniform<bits = 3, group = 16, symmetric = false, scale = bf16>> -> tensor<3x40xf32>
  return %w : tensor<3x40xf32>
}

// -----

// Ternary: scale index and weight trits (5 per byte), codebook entry by exp2,
// f32 tensor scale from the header.
// CHECK-LABEL: func.func @ternary
// CHECK: tensor.generate
// CHECK: math.ipowi
// CHECK: math.exp2
// CHECK: arith.bitcast %{{.+}} : i32 to f32
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
