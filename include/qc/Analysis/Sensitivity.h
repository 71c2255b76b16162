//===- Sensitivity.h - Output KL of quantizing one tensor -------*- C++ -*-===//
#ifndef QC_ANALYSIS_SENSITIVITY_H
#define QC_ANALYSIS_SENSITIVITY_H

#include "qc/Model/Model.h"

#include <map>

namespace qc {

/// For each tensor of `names`: the mean KL divergence of the model's output
/// distribution when that tensor alone is replaced by `values[name]`
/// (f32, its dequantized quantization), over `windows` windows of `ctx`
/// tokens of `text`. Throws FormatError when the text is too short.
std::map<std::string, double>
measureSensitivity(const model::Model &m, const std::string &text,
                   const std::map<std::string, std::vector<float>> &values,
                   int64_t ctx, int64_t windows);

/// The layer-output error of replacing W by Q: sum_r (w_r - q_r)^T H
/// (w_r - q_r), with H = X^T X (cols x cols); the importance-weighted
/// squared error sum_c H_cc sum_r (w - q)^2 is its diagonal part.
double outputError(const std::vector<float> &w, const std::vector<float> &q,
                   int64_t rows, int64_t cols, const double *hessian);

} // namespace qc

#endif // QC_ANALYSIS_SENSITIVITY_H
