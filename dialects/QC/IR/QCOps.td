//===- QCOps.td - qc graph, weight and quantization ops --------*- tablegen -*-===//
#ifndef QC_OPS_TD
#define QC_OPS_TD

include "QCBase.td"
include "QCAttrs.td"
include "QCTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def QC_FloatTensor : RankedTensorOf<[AnyFloat]>;
def QC_QTensor : Type<CPred<"::llvm::isa<::mlir::qc::QTensorType>($_self)">,
                      "quantized tensor", "::mlir::qc::QTensorType">;
def QC_Weight : AnyTypeOf<[QC_FloatTensor, QC_QTensor],
                          "float or quantized weight tensor">;
def QC_ByteTensor : 1DTensorOf<[I8]>;
def QC_KVCache : Type<CPred<"::llvm::isa<::mlir::qc::KVCacheType>($_self)">,
                      "KV cache", "::mlir::qc::KVCacheType">;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def QC_ParamOp : QC_Op<"param", [Pure]> {
  let summary = "A named tensor of the external weights archive";
  let description = [{
    Names a tensor stored outside the IR, in the weights archive the module's
    `qc.weights` attribute points to. The IR holds its name, shape and element
    type (or quantized format, or after qc-pack its packed bytes), never its
    data.

    ```mlir
    %w = qc.param "blk.0.attn_q.weight" : tensor<64x64xf32>
    %q = qc.param "blk.0.ffn_down.weight" : !qc.qtensor<64x172, #qc.uniform<bits = 4, group = 32, symmetric = true, scale = f16>>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs AnyTypeOf<[QC_FloatTensor, QC_QTensor, QC_ByteTensor],
                                "float, quantized or packed-byte tensor">:$result);
  let assemblyFormat = "$name attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Transformer graph
//===----------------------------------------------------------------------===//

def QC_EmbeddingOp : QC_Op<"embedding", [Pure]> {
  let summary = "Rows of an embedding table selected by token ids";
  let description = [{
    `result[t, :] = table[ids[t], :]`; the table may be quantized.

    ```mlir
    %h = qc.embedding %table[%ids] : tensor<512x64xf32>, tensor<?xi32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins QC_Weight:$table, 1DTensorOf<[I32]>:$ids);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $table `[` $ids `]` attr-dict `:` qualified(type($table)) `,` qualified(type($ids)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def QC_RMSNormOp : QC_Op<"rms_norm", [Pure]> {
  let summary = "Root-mean-square normalisation with a learned scale";
  let description = [{
    `y = x / sqrt(mean(x^2, last dim) + epsilon) * weight`.

    ```mlir
    %y = qc.rms_norm %x, %w {epsilon = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xf32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$input, 1DTensorOf<[AnyFloat]>:$weight,
                       F32Attr:$epsilon);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` qualified(type($input)) `,` qualified(type($weight)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def QC_RopeOp : QC_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Rotary position embedding";
  let description = [{
    Rotates each `head_dim`-wide head of every row, row t being position
    `position + t`, by angles `(position + t) * freq_scale * theta^(-2i/head_dim)`.
    Pairs are adjacent elements (llama) or, with `neox`, elements i and
    i + head_dim/2 (GPT-NeoX, Qwen2).

    ```mlir
    %r = qc.rope %q at %pos {head_dim = 8 : i64, theta = 1.0e+04 : f32} : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$input, Index:$position,
                       I64Attr:$head_dim, F32Attr:$theta,
                       DefaultValuedAttr<F32Attr, "1.0">:$freq_scale,
                       UnitAttr:$neox);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = "$input `at` $position attr-dict `:` qualified(type($input))";
  let hasVerifier = 1;
}

def QC_AttentionOp : QC_Op<"attention", [Pure]> {
  let summary = "Causal multi-head attention through a KV cache";
  let description = [{
    Writes the keys and values of rows `position ..< position + T` into the
    cache, then lets each query row attend to every cached position up to its
    own (causal), with `heads` query heads sharing the cache's `kv_heads`
    (grouped-query attention). Scores are scaled by `scale`, by default
    1/sqrt(head_dim). Returns the attention output and the updated cache.

    ```mlir
    %o, %c1 = qc.attention %q, %k, %v, %c0 at %pos {heads = 8 : i64}
        : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>,
          !qc.kv_cache<positions = 512, kv_heads = 4, head_dim = 8, element_type = f16>
        -> tensor<?x64xf32>, !qc.kv_cache<positions = 512, kv_heads = 4, head_dim = 8, element_type = f16>
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$query, 2DTensorOf<[F32]>:$key,
                       2DTensorOf<[F32]>:$value, QC_KVCache:$cache,
                       Index:$position, I64Attr:$heads,
                       OptionalAttr<F32Attr>:$scale);
  let results = (outs 2DTensorOf<[F32]>:$result, QC_KVCache:$updated_cache);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $cache `at` $position attr-dict `:`
    qualified(type($query)) `,` qualified(type($key)) `,` qualified(type($value)) `,` qualified(type($cache)) `->`
    qualified(type($result)) `,` qualified(type($updated_cache))
  }];
  let hasVerifier = 1;
}

def QC_LinearOp : QC_Op<"linear", [Pure]> {
  let summary = "A linear layer: input times transposed weight, plus bias";
  let description = [{
    `result[t, n] = sum_k input[t, k] * weight[n, k] (+ bias[n])`; the weight
    is stored [out, in] as in GGUF and PyTorch, and may be quantized.

    ```mlir
    %y = qc.linear %x, %w : tensor<?x64xf32>, tensor<172x64xf32> -> tensor<?x172xf32>
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$input, QC_Weight:$weight,
                       Optional<1DTensorOf<[AnyFloat]>>:$bias);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` qualified(type($input)) `,` qualified(type($weight))
    (`,` type($bias)^)? `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def QC_LogitsOp : QC_Op<"logits", [Pure]> {
  let summary = "The output head: hidden states to vocabulary logits";
  let description = [{
    A linear layer kept apart so passes can treat the output head on its own
    (llama.cpp keeps it at higher precision). The weight may be the token
    embedding table (tied embeddings).

    ```mlir
    %l = qc.logits %h, %w : tensor<?x64xf32>, tensor<512x64xf32> -> tensor<?x512xf32>
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$input, QC_Weight:$weight);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` qualified(type($input)) `,` qualified(type($weight)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

class QC_UnaryOp<string mnemonic, string formula>
    : QC_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise " # mnemonic;
  let description = "`" # formula # "` on every element.";
  let arguments = (ins RankedTensorOf<[F32]>:$input);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
}

def QC_SiluOp : QC_UnaryOp<"silu", "y = x / (1 + exp(-x))">;
def QC_GeluOp : QC_UnaryOp<"gelu",
    "y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))">;
def QC_SoftmaxOp : QC_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "Softmax over the last dimension";
  let description = "`y[.., i] = exp(x[.., i]) / sum_j exp(x[.., j])`.";
  let arguments = (ins RankedTensorOf<[F32]>:$input);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

def QC_QuantizeOp : QC_Op<"quantize", [Pure]> {
  let summary = "Quantizes a float tensor to the result's format";
  let description = [{
    ```mlir
    %q = qc.quantize %w : tensor<64x64xf32> -> !qc.qtensor<64x64, #qc.gguf<"Q8_0">>
    ```
  }];
  let arguments = (ins QC_FloatTensor:$input);
  let results = (outs QC_QTensor:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def QC_DequantizeOp : QC_Op<"dequantize", [Pure]> {
  let summary = "Reconstructs the float tensor a quantized tensor stands for";
  let description = [{
    ```mlir
    %w = qc.dequantize %q : !qc.qtensor<64x64, #qc.gguf<"Q8_0">> -> tensor<64x64xf32>
    ```
  }];
  let arguments = (ins QC_QTensor:$input);
  let results = (outs QC_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def QC_PackOp : QC_Op<"pack", [Pure]> {
  let summary = "The packed bytes of a quantized tensor";
  let description = [{
    Exposes the storage of a quantized tensor as bytes in its format's
    layout; the byte count is the format's packed size for the shape.

    ```mlir
    %b = qc.pack %q : !qc.qtensor<64x64, #qc.gguf<"Q8_0">> -> tensor<4352xi8>
    ```
  }];
  let arguments = (ins QC_QTensor:$input);
  let results = (outs QC_ByteTensor:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def QC_UnpackOp : QC_Op<"unpack", [Pure]> {
  let summary = "Views packed bytes as a quantized tensor";
  let description = [{
    ```mlir
    %q = qc.unpack %b : tensor<4352xi8> -> !qc.qtensor<64x64, #qc.gguf<"Q8_0">>
    ```
  }];
  let arguments = (ins QC_ByteTensor:$input);
  let results = (outs QC_QTensor:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

#endif // QC_OPS_TD
