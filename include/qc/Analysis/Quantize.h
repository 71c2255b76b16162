//===- Quantize.h - Quantizing one tensor by method -------------*- C++ -*-===//
#ifndef QC_ANALYSIS_QUANTIZE_H
#define QC_ANALYSIS_QUANTIZE_H

#include "qc/Model/Archive.h"

#include <vector>

namespace qc {

class GPTQSolver;

enum class QuantMethod { RTN, Imatrix, GPTQ };

/// Parses "rtn" | "imatrix" | "gptq".
bool parseQuantMethod(const std::string &text, QuantMethod &method);

/// `t` quantized to `format`. `importance` (one per column) is used by the
/// imatrix and GPTQ methods; `hessian` (cols x cols) by GPTQ, which applies
/// to uniform and ternary formats (ggml types are quantized with importance). Throws
/// FormatError with the codec's reason when the format cannot hold `t`.
model::Tensor quantizeTensor(const model::Tensor &t, const std::string &format,
                             QuantMethod method, const float *importance,
                             const double *hessian);

/// The archive entry `t` quantized to `format` will be; throws FormatError
/// when the format cannot hold rows of t's width.
model::TensorSpec quantizedSpec(const model::Tensor &t,
                                const std::string &format);
/// quantizeTensor into `out` (quantizedSpec(t, format).bytes bytes), reading
/// `t` in row chunks where the format allows, so the f32 copy stays small.
/// GPTQ factors `hessian`, or uses `solver` (H already factored) instead.
void quantizeTensorInto(const model::Tensor &t, const std::string &format,
                        QuantMethod method, const float *importance,
                        const double *hessian, uint8_t *out,
                        const GPTQSolver *solver = nullptr);

/// Evenly spaced rows of `t` holding about `weights` weights (at least one
/// row) as an F32 tensor of the same name; every row when it has no more,
/// or when weights <= 0: what error estimates quantize instead of a whole
/// large tensor.
model::Tensor sampleRows(const model::Tensor &t, int64_t weights);

/// sum_c importance_c * sum_r (w_rc - q(w_rc))^2 of quantizing `weights`
/// ([rows x cols] floats) to `format` (importance 1 when null); negative
/// when the format cannot hold the tensor.
double weightedError(const std::vector<float> &weights, int64_t rows,
                     int64_t cols, const std::string &format,
                     const float *importance);

} // namespace qc

#endif // QC_ANALYSIS_QUANTIZE_H
