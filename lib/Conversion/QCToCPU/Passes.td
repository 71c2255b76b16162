//===- Passes.td - qc to CPU conversion passes ----------------*- tablegen -*-===//
#ifndef QC_CONVERSION_QCTOCPU_PASSES_TD
#define QC_CONVERSION_QCTOCPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def QCLowerToCPU : Pass<"qc-lower-to-cpu", "::mlir::ModuleOp"> {
  let summary = "Generates a fused dequantize-and-dot kernel per weight format and shape";
  let description = [{
    For every (format, rows, cols) that a `qc.linear` or `qc.logits` of the
    module reads, emits one kernel function in the vector dialect that
    computes y[t, r] = sum_k x[t, k] * w[r, k] for rows r0..r1 of the packed
    weight, decoding each block in registers: no dequantized copy of a
    weight is ever written. Formats: F32/F16/BF16, ggml Q4_0, Q8_0, Q4_K,
    `#qc.uniform` (2-8 bits, groups, symmetric or not, f16/bf16/f32 scales)
    and `#qc.ternary`.

    Two kernel kinds:
    - f32 activations (`key` "<format>:<rows>x<cols>"): per block, codes are
      unpacked with shuffles, shifts and masks (or base-3 digit extraction
      for trits), scaled, and multiplied-accumulated into f32 vectors;
    - int8 activations (key + "@q8"), on targets with VNNI for formats with
      groups of 16 or 32: activations arrive quantized per 32-block with
      their scales and per-16 sums; unsigned codes meet them in `vpdpbusd`
      and the format's zero point (or minimum) is applied through the sums.

    Tokens go in tiles (sixteen for int8 kernels, eight for f32 ones) so a
    decoded block serves a whole tile; int8 tiles take sixteen rows at once
    (eight on AVX-VNNI) with their 4-byte chunks transposed so each
    vpdpbusd lane is a row. Kernels carry `llvm.emit_c_interface` and `qc.kernel = "<key>"`;
    the runtime calls them from its thread pool. The graph functions are
    removed: the runtime runs the graph around the kernels.
  }];
  let options = [
    Option<"target", "target", "std::string", "\"native\"",
           "native | avx512vnni | avxvnni | generic (f32 kernels only)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def QCEmitKernelTable : Pass<"qc-emit-kernel-table", "::mlir::ModuleOp"> {
  let summary = "Emits the table the runtime finds the kernels in";
  let description = [{
    On a module lowered to the LLVM dialect, emits the global
    `qc_compiled_kernels` (the runtime's `qc_kernel_table`): the number of
    kernels, an array of {key string, C-interface function} for every
    function that carries `qc.kernel`, the weights archive the model was
    compiled from (`weights`, default the module's `qc.weights`) and the
    CPU features the code needs (`features`).
  }];
  let options = [
    Option<"weights", "weights", "std::string", "\"\"",
           "weights archive recorded in the table (default: qc.weights)">,
    Option<"features", "features", "std::string", "\"\"",
           "x86 features the compiled code needs, comma-separated; the "
           "runtime refuses CPUs without them">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // QC_CONVERSION_QCTOCPU_PASSES_TD
