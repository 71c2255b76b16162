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
      and the format's zero point (or minimum) is applied through the sums;
      on `avx2` (no VNNI) `pmaddubsw` + `pmaddwd` stand in for `vpdpbusd`,
      for formats whose codes stay below 128 (not 8-bit fields). For every
      input width K of such kernels, "quantize_q8:<K>" quantizes the
      activations: per 32-block d = max|x| / 127, codes roundeven(x / d)
      and the sums of each 16 codes.

    Tokens go in tiles (sixteen for int8 kernels, six for f32 ones) so a
    decoded block serves a whole tile; int8 tiles take sixteen rows at once
    (eight on AVX-VNNI) with their 4-byte chunks transposed so each
    vpdpbusd lane is a row. Kernels carry `llvm.emit_c_interface` and `qc.kernel = "<key>"`;
    the runtime calls them from its thread pool. The graph functions are
    removed: qc-lower-graph-ops, run before, has made their other kernels.
  }];
  let options = [
    Option<"target", "target", "std::string", "\"native\"",
           "native | avx512vbmi (AVX-512 VNNI + VBMI) | avx512vnni | avxvnni | "
           "avx2 | generic (f32 kernels only)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def QCLowerGraphOps : Pass<"qc-lower-graph-ops", "::mlir::ModuleOp"> {
  let summary = "Generates kernels for the graph's norms, RoPE, attention, SwiGLU and adds";
  let description = [{
    For the operations of the graph functions other than products, emits one
    kernel per (operation, shape) over flat f32 memrefs, which the runtime
    calls in graph order from its thread pool (keys and arguments are the
    runtime's contract, `T` the number of token rows):

    - `rms_norm:<D>` (x, w, y, T): y = x / sqrt(mean(x^2) + epsilon) * w;
    - `rope_table:<hd>` (rot, pos, T): the cos and sin pairs of positions
      pos..pos+T-1 (libm's cos and sin);
    - `rope:<width>:<hd>[:neox]` (v, rot, T): rotates every head in place;
    - `kv_store:<kv width>:<f16|f32|q8>` (k, v, keys, values, pos, T): rows
      pos..pos+T-1 of a layer's cache, narrowed to its element type (a q8
      row: the int8 codes, then an f32 scale max|x|/127 per KV head);
    - `attention:<heads>:<kv heads>:<hd>:<f16|f32|q8>` (q, keys, values, out,
      scores, pos, first, last): causal softmax attention for jobs
      first..last-1 (job = t * heads + h), grouped-query heads sharing the
      cache's;
    - `swiglu` (g, u): g = g / (1 + exp(-g)) * u, and `add` (x, o): x += o,
      both as `linalg.generic` (convert-linalg-to-loops lowers them).

    Loops are scf over vectors along the contiguous dimension. `math.exp`
    becomes its polynomial approximation so that loops vectorise. Constants
    (epsilon, theta, the attention scale) are baked in; two operations that
    would share a kernel but differ in them are an error, as are operations
    with no lowering (gelu, a lone silu, softmax).
    The cache's element type comes from the `!qc.kv_cache` type unless
    `kv-type` overrides it. The graph functions stay (qc-lower-to-cpu
    removes them).
  }];
  let options = [
    Option<"kvType", "kv-type", "std::string", "\"\"",
           "KV cache element type: f16 | f32 | q8 (default: the IR's)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
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
