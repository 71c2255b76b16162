//===- Importance.h - Calibration statistics (imatrix, X^T X) ---*- C++ -*-===//
//
// Per linear weight, the statistics of its inputs over calibration text:
// sum of x^2 per input column and the number of rows seen (llama.cpp's
// imatrix: importance = mean x^2 per column), and optionally the full X^T X
// that GPTQ needs. Reads and writes llama.cpp's imatrix files: the legacy
// .dat layout and the GGUF one (<name>.in_sum2 / <name>.counts).
//
//===----------------------------------------------------------------------===//
#ifndef QC_ANALYSIS_IMPORTANCE_H
#define QC_ANALYSIS_IMPORTANCE_H

#include "qc/Model/Model.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace qc {

struct InputStats {
  std::vector<double> sumSquares; // per input column
  int64_t rows = 0;               // activation rows accumulated
  int64_t calls = 0;              // matmul calls (llama.cpp's ncall)
  std::vector<double> xtx;        // cols x cols, empty unless collected

  /// Mean x^2 per column: the importance llama-quantize uses.
  std::vector<float> importance() const;
};

struct ImportanceStats {
  std::map<std::string, InputStats> weights; // by weight tensor name
  std::string dataset;
  int64_t chunks = 0;

  /// Throws FormatError when `m` has no such weight, or the columns differ:
  /// statistics from another model must not be applied silently.
  void checkAgainst(const model::Model &m) const;
};

struct CalibrationOptions {
  int64_t ctx = 256;   // tokens per window (first replaced by BOS)
  int64_t chunks = 0;  // 0: all windows of the text
  bool collectXtX = false;
};

/// Gets the input rows of one product, named by its weight.
using InputObserver = std::function<void(const std::string &weight,
                                         const float *x, int64_t rows,
                                         int64_t cols)>;
/// A forward pass calibration drives: runs `count` tokens as a fresh window
/// (position 0) and reports the input of every product to `observer`.
using WindowRunner = std::function<void(const int32_t *tokens, int64_t count,
                                        const InputObserver &observer)>;

/// The windows of `text` calibration runs: options.ctx tokens each, the
/// first replaced by BOS where the model adds one. Throws FormatError when
/// the text is shorter than one window.
std::vector<std::vector<int32_t>>
calibrationWindows(const model::Model &m, const std::string &text,
                   const CalibrationOptions &options);

/// Runs `text` in windows of options.ctx tokens through `run` and records
/// the inputs of every linear layer (and the output head). Throws
/// FormatError when the text is shorter than one window.
ImportanceStats calibrate(const model::Model &m, const std::string &text,
                          const CalibrationOptions &options,
                          const WindowRunner &run);
/// The same on the float reference (the independent oracle; slow on large
/// models, where a compiled model's runner is the fast path).
ImportanceStats calibrate(const model::Model &m, const std::string &text,
                          const CalibrationOptions &options);

/// llama.cpp's legacy imatrix (.dat), or its GGUF imatrix when `path` ends
/// in .gguf.
void writeImatrix(const ImportanceStats &stats, const std::string &path);
/// Reads either imatrix layout (by magic); X^T X is not part of them.
ImportanceStats readImatrix(const std::string &path);

/// X^T X travels in its own file: u32 count, then per weight a u32 name
/// length, the name, u32 cols, u64 rows, cols*cols f64.
void writeXtX(const ImportanceStats &stats, const std::string &path);
void readXtX(ImportanceStats &stats, const std::string &path);

} // namespace qc

#endif // QC_ANALYSIS_IMPORTANCE_H
