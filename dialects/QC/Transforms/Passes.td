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

def QCCalibrate : Pass<"qc-calibrate", "::mlir::ModuleOp"> {
  let summary = "Records importance statistics of every weight's inputs";
  let description = [{
    Runs the float model (the module's weights archive, on the independent
    reference) over calibration text and records, for every weight of a
    linear layer or the output head, the sum of x^2 per input column over all
    rows (llama.cpp's imatrix) and, with `xtx`, the full X^T X GPTQ needs.
    The statistics go to files (`<archive>.imatrix`, llama.cpp's .dat
    layout, and `<archive>.xtx`); the IR gets references to them. With
    `imatrix=FILE` it attaches a user's llama.cpp imatrix instead (checked
    against the model's tensor names and widths). With `compiled=LIB.so`
    (the float model built by `quant-compile --emit=lib`) the windows run
    on its generated kernels through the runtime's input observer instead
    of the reference: the same statistics to float rounding, at the speed
    of the compiled model.

    Before:
    ```mlir
    %w = qc.param "blk.0.attn_q.weight" : tensor<64x64xf32>
    ```
    After:
    ```mlir
    %w = qc.param "blk.0.attn_q.weight" {qc.importance = #qc.stats<"m.imatrix", "blk.0.attn_q.weight">} : tensor<64x64xf32>
    ```
  }];
  let options = [
    Option<"calib", "calib", "std::string", "\"\"", "calibration text file">,
    Option<"imatrix", "imatrix", "std::string", "\"\"",
           "use this llama.cpp imatrix file instead of calibrating">,
    Option<"out", "out", "std::string", "\"\"",
           "imatrix file to write (default: the archive's name + .imatrix)">,
    Option<"ctx", "ctx", "int64_t", "256", "tokens per calibration window">,
    Option<"chunks", "chunks", "int64_t", "0", "windows to run (0: all)">,
    Option<"xtx", "xtx", "bool", "false", "also record X^T X (for GPTQ)">,
    Option<"compiled", "compiled", "std::string", "\"\"",
           "run the windows on this library quant-compile built from the "
           "float model (default: the float reference)">,
    Option<"threads", "threads", "int64_t", "0",
           "threads of the compiled run (0: all cores)">,
  ];
}

def QCAssignFormats : Pass<"qc-assign-formats", "::mlir::ModuleOp"> {
  let summary = "Chooses a number format for every weight matrix";
  let description = [{
    Sets `qc.format` on every weight matrix `qc.param`, either from a recipe
    or from a bits-per-weight budget, and prints the assignment table
    (tensor, format, bits per weight, estimated error).

    Recipe (JSON): `{"default": "Q4_K_M", "layers": [[0, "Q4_K_M"],
    [1, "Q3_K_L"]], "tensors": {"blk.*.ffn_down.weight": "Q6_K"},
    "token_embd": "Q4_K", "output": "Q6_K"}`. Entries are qc format names
    (`Q4_K`, `uniform<4,32,sym,f16>`, `ternary<2,16,27>`) or llama.cpp mixes
    (`Q3_K_S`, `Q3_K_M`, `Q3_K_L`, `Q4_K_S`, `Q4_K_M`, `Q5_K_S`, `Q5_K_M`,
    `Q6_K`, `Q4_0`, `Q8_0`), whose per-tensor rules are llama.cpp's. A
    llama.cpp type a tensor's rows cannot hold falls back as llama.cpp's
    rules say (Q2_K/Q3_K to IQ4_NL, Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to
    Q8_0), and to F16 where the fallback cannot hold it either.

    Budget (`target-bpw=3.5`): each tensor is quantized to each candidate
    format with `method` on evenly spaced rows holding about
    `sample-weights` weights (all rows of smaller tensors), so no candidate
    is tried on a whole large tensor; its
    bytes are the whole tensor's, its error is measured relative to the
    sampled rows:
    the layer-output error sum_r (w_r - q_r)^T X^T X (w_r - q_r) when
    qc-calibrate recorded X^T X, else sum_c importance_c sum_r (w - q)^2.
    With `kl-text`, each tensor's errors are mapped to output KL divergence
    through its measured sensitivity: the model's KL with that tensor alone
    quantized (RTN) to each `kl-reference` format gives points (error, KL);
    a power law KL = a error^b through them (b = 1 with one point) converts
    every candidate's error. A multiple-choice knapsack (Lagrangian relaxation, then
    filling leftover bytes greedily) minimises the total under the size of
    target-bpw bits per weight over all weight matrices.

    After: `qc.param "blk.0.attn_q.weight" {qc.format = #qc.gguf<"Q4_K">}`.
  }];
  let options = [
    Option<"recipe", "recipe", "std::string", "\"\"", "recipe file (JSON)">,
    Option<"targetBpw", "target-bpw", "double", "0.0",
           "bits-per-weight budget over all weight matrices">,
    Option<"candidates", "candidates", "std::string", "\"\"",
           "formats the budget chooses from, separated by ';' (default: "
           "ternary, uniform 2-8 bits, Q4_0, Q8_0, Q4_K, Q6_K, F16)">,
    Option<"printTable", "print-table", "bool", "true",
           "print the assignment table to stderr">,
    Option<"table", "table", "std::string", "\"\"",
           "also write the table to this file as JSON: one object per "
           "matrix (name, format, bpw, error, and error_kind: the relative "
           "output error, or the estimated KL with kl-text)">,
    Option<"sampleWeights", "sample-weights", "int64_t", "65536",
           "weights per tensor the error estimates quantize, in whole rows "
           "(0: all rows)">,
    Option<"method", "method", "std::string", "\"imatrix\"",
           "quantization method the budget's error estimates use "
           "(rtn | imatrix | gptq)">,
    Option<"klText", "kl-text", "std::string", "\"\"",
           "text to measure per-tensor output KL sensitivity on">,
    Option<"klCtx", "kl-ctx", "int64_t", "128", "tokens per KL window">,
    Option<"klWindows", "kl-windows", "int64_t", "2", "KL windows">,
    Option<"klReference", "kl-reference", "std::string",
           "\"uniform<4,32,sym,f16>;ternary<1,16,27>\"",
           "formats (';'-separated) each tensor is quantized to (RTN) to "
           "measure its sensitivity">,
  ];
}

def QCQuantize : Pass<"qc-quantize", "::mlir::ModuleOp"> {
  let summary = "Quantizes every weight with an assigned format";
  let description = [{
    For each `qc.param` with `qc.format`, quantizes the tensor from the
    archive with the chosen method and writes a new archive (`out`, default
    the archive's name + .q.safetensors) holding the packed bytes; the param
    becomes a `!qc.qtensor` of the format.

    - `rtn`: round to nearest with range-based scales.
    - `imatrix`: importance-weighted scale search (needs `qc.importance`
      from qc-calibrate; llama.cpp's importance-aware quantizers for
      `#qc.gguf` types, weighted least squares for `#qc.uniform`, weighted
      codebook choice for `#qc.ternary`). With `qc.hessian` a
      `#qc.uniform` group minimises (w - q)^T H_gg (w - q) under its own
      block of X^T X: code moves and scale refits that see the correlations
      inside the group (on BabyLlama 3-bit: error 0.199 -> 0.127).
    - `gptq`: GPTQ error feedback for `#qc.uniform` and `#qc.ternary`
      formats; ggml types use `imatrix`. With `calib=TEXT`, block by block
      as in the paper: the text's windows go through the model one block at
      a time, block l's inputs coming from the blocks before it already
      quantized (`float-inputs=true`: from the float model), and each
      block's X^T X (and the importance of its ggml-typed weights) is
      collected, used and dropped before the next; memory holds the hidden
      states, one block and its four X^T X. After each block the hidden
      states go to `<out>.gptq-state` and the archive grows in
      `<out>.partial`: a run interrupted there (killed, or
      `stop-after-block`) and started again with the same model, text,
      options and formats resumes after the last finished block and ends
      byte-identical to an uninterrupted run. Without `calib`, `qc.hessian`
      from qc-calibrate xtx=true (every weight's X^T X from the float model
      at once).

    Before: `qc.param "w" {qc.format = #qc.gguf<"Q8_0">} : tensor<64x64xf32>`
    After: `qc.param "w" : !qc.qtensor<64x64, #qc.gguf<"Q8_0">>`
  }];
  let options = [
    Option<"method", "method", "std::string", "\"imatrix\"",
           "rtn | imatrix | gptq">,
    Option<"out", "out", "std::string", "\"\"", "archive to write">,
    Option<"calib", "calib", "std::string", "\"\"",
           "gptq: calibration text, run block by block">,
    Option<"ctx", "ctx", "int64_t", "256", "gptq block by block: window">,
    Option<"chunks", "chunks", "int64_t", "0",
           "gptq block by block: windows (0: all)">,
    Option<"floatInputs", "float-inputs", "bool", "false",
           "gptq block by block: inputs from the float model">,
    Option<"threads", "threads", "int64_t", "0",
           "gptq block by block: BLAS threads (0: every core; one below "
           "dim 512)">,
    Option<"stopAfterBlock", "stop-after-block", "int64_t", "-1",
           "gptq block by block: stop after this block as a killed run "
           "would, leaving what resumes it (tests)">,
  ];
}

def QCTernaryEncode : Pass<"qc-ternary-encode", "::mlir::ModuleOp"> {
  let summary = "Encodes the linear layers in balanced ternary";
  let description = [{
    Balanced-ternary post-training quantization: every linear weight (and,
    with `embeddings`, the token embedding and output head, as
    llama-quantize --pure does; by default they stay as they are) gets
    `#qc.ternary<depth, group, scales>` and is encoded, each group's scale
    chosen from the log-spaced codebook to minimise the importance-weighted
    error when `qc.importance` is present. Writes a new archive like
    qc-quantize.

    After: `qc.param "blk.0.attn_q.weight" : !qc.qtensor<64x64, #qc.ternary<depth = 2, group = 16, scales = 27>>`
  }];
  let options = [
    Option<"depth", "depth", "unsigned", "2", "trits per weight (1..3)">,
    Option<"group", "group", "unsigned", "16", "weights per scale">,
    Option<"scales", "scales", "unsigned", "27", "codebook size (power of 3)">,
    Option<"embeddings", "embeddings", "bool", "false",
           "also the token embedding and the output head">,
    Option<"out", "out", "std::string", "\"\"", "archive to write">,
  ];
}

def QCPack : Pass<"qc-pack", "::mlir::ModuleOp"> {
  let summary = "Makes the byte layout of quantized weights explicit";
  let description = [{
    Rewrites each quantized `qc.param` into the param of its packed bytes
    (`tensor<Nxi8>`, N the format's packed size, as stored in the archive)
    and a `qc.unpack` to the quantized tensor, so lowering sees the bytes
    the kernels read.

    Before: `%w = qc.param "w" : !qc.qtensor<2x32, #qc.gguf<"Q8_0">>`
    After:
    ```mlir
    %b = qc.param "w" : tensor<68xi8>
    %w = qc.unpack %b : tensor<68xi8> -> !qc.qtensor<2x32, #qc.gguf<"Q8_0">>
    ```
  }];
}

#endif // QC_PASSES_TD
