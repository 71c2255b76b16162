//===- ONNXModel.h - A quantized language model as ONNX ---------*- C++ -*-===//
//
// A model qc reads (its archive after qc-quantize) as an ONNX graph ONNX
// Runtime runs: input_ids [1, T] (int64) -> logits [1, T, vocab], the whole
// window at once (no KV cache inputs). Weights in a format with a
// MatMulNBits form go into com.microsoft MatMulNBits from their stored
// bytes; F32/F16/BF16 weights into MatMul; norms, RoPE, causal attention
// (grouped heads) and SwiGLU are standard ONNX ops (opset 17).
//
//===----------------------------------------------------------------------===//
#ifndef QC_EXPORT_ONNXMODEL_H
#define QC_EXPORT_ONNXMODEL_H

#include "qc/Model/Model.h"

#include <string>

namespace qc {

struct OnnxModelReport {
  int matMulNBits = 0, floatMatMul = 0;
  uint64_t bytes = 0;
};

/// Writes `m` to `path` (complete or not at all): input_ids [1, T] ->
/// logits [1, T, vocab]; with `kvInputs` also past_key_values.L.key/value
/// [1, kv heads, P, head dim] in (P may be 0) and present.L.key/value
/// [1, kv heads, P + T, head dim] out, the window at positions P.. P+T-1.
/// Throws model::FormatError naming the first tensor whose format has no
/// ONNX form.
OnnxModelReport writeOnnxModel(const model::Model &m, const std::string &path,
                               bool kvInputs = false);

} // namespace qc

#endif // QC_EXPORT_ONNXMODEL_H
