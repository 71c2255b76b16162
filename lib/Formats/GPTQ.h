//===- GPTQ.h - The GPTQ column loop, shared by grouped codecs --*- C++ -*-===//
#ifndef QC_LIB_FORMATS_GPTQ_H
#define QC_LIB_FORMATS_GPTQ_H

#include "qc/Formats/Codec.h"

#include <functional>
#include <vector>

namespace qc::formats {

/// What the GPTQ loop asks of a format with per-(row, group) parameters.
struct GroupQuantizer {
  int64_t group;
  /// Fixes the parameters of (row, block) from its weights and importance
  /// (`n` valid of `group`; padding has importance 0).
  std::function<void(int64_t row, int64_t block, const float *w,
                     const float *importance, int64_t n)>
      fit;
  /// Rounds one weight under its group's parameters: records the code and
  /// returns the value it reconstructs.
  std::function<float(int64_t row, int64_t col, float w)> round;
};

/// Runs GPTQ over W ([rows x cols]) with H; the quantizer sees every weight
/// after the error feedback of the columns before it. Returns an error text
/// or "".
std::string runGPTQ(const float *weights, int64_t rows, int64_t cols,
                    const double *hessian, const GPTQOptions &options,
                    GroupQuantizer &quantizer);

} // namespace qc::formats

#endif // QC_LIB_FORMATS_GPTQ_H
