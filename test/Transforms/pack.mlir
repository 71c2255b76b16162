// RUN: quant-opt %s --qc-pack | FileCheck %s

// CHECK-LABEL: func.func @packed
func.func @packed(%x: tensor<?x32xf32>) -> tensor<?x2xf32> {
  // CHECK: %[[B:.+]] = qc.param "w" : tensor<68xi8>
  // CHECK: %[[Q:.+]] = qc.unpack %[[B]] : tensor<68xi8> -> !qc.qtensor<2x32, #qc.gguf<"Q8_0">>
  // CHECK: qc.linear %{{.+}}, %[[Q]]
  %w = qc.param "w" : !qc.qtensor<2x32, #qc.gguf<"Q8_0">>
  %y = qc.linear %x, %w : tensor<?x32xf32>, !qc.qtensor<2x32, #qc.gguf<"Q8_0">> -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// Float params are left alone; ternary bytes include the 4-byte header.
// CHECK-LABEL: func.func @mixed
func.func @mixed(%x: tensor<?x20xf32>) -> tensor<?x2xf32> {
  // CHECK: qc.param "f" : tensor<2x20xf32>
  // CHECK: qc.param "t" : tensor<32xi8>
  %f = qc.param "f" : tensor<2x20xf32>
  %t = qc.param "t" : !qc.qtensor<2x20, #qc.ternary<depth = 2, group = 16, scales = 27>>
  %a = qc.linear %x, %f : tensor<?x20xf32>, tensor<2x20xf32> -> tensor<?x2xf32>
  %b = qc.linear %x, %t : tensor<?x20xf32>, !qc.qtensor<2x20, #qc.ternary<depth = 2, group = 16, scales = 27>> -> tensor<?x2xf32>
  %s = arith.addf %a, %b : tensor<?x2xf32>
  return %s : tensor<?x2xf32>
}
