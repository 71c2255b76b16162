//===- Passes.td - qc passes -----------------------------------*- tablegen -*-===//
#ifndef QC_PASSES_TD
#define QC_PASSES_TD

include "mlir/Pass/PassBase.td"

def QCExpandDequantize : Pass<"qc-expand-dequantize"> {
  let summary = "Expands dequantization of packed bytes into arith/tensor IR";
  let description = [{
    Rewrites `qc.dequantize` of `qc.unpack`ed bytes into the IR the format's
    `buildDequant` hook builds: a `tensor.generate` that reads scales and
    codes from the byte tensor. Formats without an IR dequantization keep
    their ops and the pass fails with the format named.

    Before:
    ```mlir
    %q = qc.unpack %bytes : tensor<68xi8> -> !qc.qtensor<2x32, #qc.gguf<"Q8_0">>
    %w = qc.dequantize %q : !qc.qtensor<2x32, #qc.gguf<"Q8_0">> -> tensor<2x32xf32>
    ```
    After:
    ```mlir
    %w = tensor.generate {
    ^bb0(%i: index, %j: index):
      ...  // byte offsets, f16 scale, int8 code
      tensor.yield %x : f32
    } : tensor<2x32xf32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // QC_PASSES_TD
