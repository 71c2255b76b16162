//===- GPTQ.h - GPTQ error feedback on LAPACK/BLAS --------------*- C++ -*-===//
//
// GPTQ (Frantar et al. 2022): the columns of W are quantized one at a time
// and each one's error is spread over the columns not yet quantized through
// the upper Cholesky factor of H^-1, H = X^T X. Columns go in lazy batches
// of 128: inside a batch the updates touch only the batch, the rest of W is
// updated once per batch by one matrix product. The factorisations are
// LAPACK's (spotrf, strtri), the products BLAS's (OpenBLAS on Debian).
//
//===----------------------------------------------------------------------===//
#ifndef QC_ANALYSIS_GPTQ_H
#define QC_ANALYSIS_GPTQ_H

#include "qc/Formats/Codec.h"

#include <string>
#include <vector>

namespace qc {

struct GPTQOptions {
  double damp = 0.01;   // added to the diagonal, times its mean
  bool actOrder = true; // quantize columns by decreasing H diagonal
  int64_t batch = 128;  // columns per lazy batch
};

/// H factored once, for any number of row chunks of one weight (rows are
/// independent given H).
class GPTQSolver {
public:
  /// `hessian` is cols x cols, row-major (X^T X summed over calibration
  /// rows). Check error() before use.
  GPTQSolver(const double *hessian, int64_t cols, const GPTQOptions &options);
  GPTQSolver(const float *hessian, int64_t cols, const GPTQOptions &options);

  /// Why H cannot be used ("" when it can).
  const std::string &error() const { return why; }
  int64_t cols() const { return n; }
  /// diag(H) before damping: the importance the groups are fitted with.
  const std::vector<float> &importance() const { return diag; }

  /// Quantizes `rows` rows of `weights` ([rows x cols]) with `codec` into
  /// `dst` (codec.packedBytes(rows, cols) bytes). Returns the reason when
  /// the format has no GPTQ path.
  std::string quantize(const formats::Codec &codec, const float *weights,
                       int64_t rows, uint8_t *dst) const;

private:
  template <typename T> void factor(const T *hessian);

  int64_t n;
  GPTQOptions options;
  std::string why;
  std::vector<float> diag;
  std::vector<int64_t> perm;  // column order
  std::vector<bool> dead;     // columns no calibration input reached
  std::vector<float> upper;   // U, upper triangle, in `perm` order
};

/// One weight through GPTQSolver: the convenience for a whole tensor.
std::string quantizeGPTQ(const formats::Codec &codec, const float *weights,
                         int64_t rows, int64_t cols, const double *hessian,
                         const GPTQOptions &options, uint8_t *dst);

} // namespace qc

#endif // QC_ANALYSIS_GPTQ_H
