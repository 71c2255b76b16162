//===- Sequential.h - GPTQ block by block -----------------------*- C++ -*-===//
//
// GPTQ as the paper runs it on large models: the calibration windows' hidden
// states go through the transformer one block at a time. For block l the
// inputs come from blocks 0..l-1 already quantized (or, with floatInputs,
// from the float model); a float pass of block l accumulates X^T X of its
// four product inputs (q/k/v, attn_output, gate/up, down), GPTQ quantizes
// its weights, and a pass with the quantized weights gives block l+1 its
// inputs. Memory: the hidden states (windows x ctx x dim floats), one
// block's weights in f32 and its four X^T X; the model stays mapped.
//
//===----------------------------------------------------------------------===//
#ifndef QC_ANALYSIS_SEQUENTIAL_H
#define QC_ANALYSIS_SEQUENTIAL_H

#include "qc/Analysis/GPTQ.h"
#include "qc/Analysis/Importance.h"

#include <functional>
#include <map>

namespace qc {

struct SequentialOptions {
  CalibrationOptions windows; // ctx and chunks (X^T X is always collected)
  bool floatInputs = false;   // block l sees the float model's hidden states
  GPTQOptions gptq;
  /// BLAS threads; 0: every core, or one for models narrower than 512
  /// (their products are too small to pay for threads).
  int64_t threads = 0;
  /// After each block the hidden states go here (atomically), with a
  /// fingerprint of the model, text, options and formats; a run that finds
  /// a matching file starts after its last block. Empty: no state.
  std::string statePath;
  /// Stop with SequentialInterrupted after this block, as a run killed
  /// there would (tests resuming); -1: never.
  int64_t stopAfterBlock = -1;
};

/// Thrown at stopAfterBlock: the state file and the tensors written so far
/// are what a resumed run needs.
struct SequentialInterrupted : model::FormatError {
  using FormatError::FormatError;
};

/// Sees each weight's X^T X (cols x cols, upper triangle mirrored) over
/// `rows` calibration rows, before the weight is quantized.
using HessianObserver = std::function<void(
    const std::string &weight, const float *xtx, int64_t cols, int64_t rows)>;
/// Where the quantized tensors go.
struct TensorSink {
  /// Each quantized tensor's packed bytes, once.
  std::function<void(const std::string &name, const uint8_t *bytes,
                     size_t size)>
      write;
  /// A resumed run: `name` was written before the interruption.
  std::function<void(const std::string &name)> keep;
};

/// Quantizes every weight `formatOf` names (weight name -> format name) in
/// block order: formats with a GPTQ path by GPTQ, ggml types by importance
/// (diag of the same X^T X), a weight no product reads (an untied token
/// embedding) by rounding to nearest. Throws FormatError on a text shorter
/// than one window, a format that cannot hold a weight, or an unusable H.
void quantizeSequential(const model::Model &m, const std::string &text,
                        const std::map<std::string, std::string> &formatOf,
                        const SequentialOptions &options,
                        const TensorSink &sink,
                        const HessianObserver &observe = nullptr);

} // namespace qc

#endif // QC_ANALYSIS_SEQUENTIAL_H
