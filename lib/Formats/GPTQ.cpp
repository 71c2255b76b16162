//===- GPTQ.cpp - GPTQ error feedback -------------------------------------===//
#include "GPTQ.h"

#include <algorithm>
#include <cmath>

namespace qc::formats {

namespace {

/// In-place Cholesky factorisation a = L L^T of an SPD matrix (n x n, the
/// lower triangle is read and overwritten with L); false when a is not
/// positive definite.
bool choleskyLower(std::vector<double> &a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double s = a[j * n + j];
    for (int64_t k = 0; k < j; ++k)
      s -= a[j * n + k] * a[j * n + k];
    if (!(s > 0))
      return false;
    double ljj = std::sqrt(s);
    a[j * n + j] = ljj;
    for (int64_t i = j + 1; i < n; ++i) {
      double t = a[i * n + j];
      for (int64_t k = 0; k < j; ++k)
        t -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = t / ljj;
    }
  }
  return true;
}

/// Upper Cholesky factor U of the inverse of the SPD matrix `h` (n x n), so
/// that inv(h) = U^T U; false when h is not positive definite.
bool inverseCholeskyUpper(std::vector<double> &h, int64_t n) {
  if (!choleskyLower(h, n))
    return false;
  // inv(h) = L^-T L^-1: invert L (lower) into M = L^-1.
  std::vector<double> m(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    m[i * n + i] = 1.0 / h[i * n + i];
    for (int64_t j = 0; j < i; ++j) {
      double s = 0;
      for (int64_t k = j; k < i; ++k)
        s += h[i * n + k] * m[k * n + j];
      m[i * n + j] = -s / h[i * n + i];
    }
  }
  // A = M^T M, then its Cholesky A = L2 L2^T; U = L2^T.
  std::vector<double> a(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double s = 0;
      for (int64_t k = i; k < n; ++k)
        s += m[k * n + i] * m[k * n + j];
      a[i * n + j] = a[j * n + i] = s;
    }
  if (!choleskyLower(a, n))
    return false;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      h[i * n + j] = j >= i ? a[j * n + i] : 0.0;
  return true;
}

} // namespace

std::string runGPTQ(const float *weights, int64_t rows, int64_t cols,
                    const double *hessian, const GPTQOptions &options,
                    GroupQuantizer &quantizer) {
  int64_t g = quantizer.group, groups = (cols + g - 1) / g;
  // Damped Hessian; dead inputs (never active) get a unit diagonal.
  std::vector<double> h(hessian, hessian + cols * cols);
  double meanDiag = 0;
  for (int64_t i = 0; i < cols; ++i)
    meanDiag += h[i * cols + i];
  meanDiag /= double(cols);
  if (!(meanDiag > 0))
    return "the Hessian (X^T X) is zero: no calibration data reached this "
           "layer";
  std::vector<float> w(weights, weights + rows * cols);
  std::vector<float> importance(cols);
  for (int64_t i = 0; i < cols; ++i) {
    if (h[i * cols + i] == 0) {
      h[i * cols + i] = 1;
      for (int64_t r = 0; r < rows; ++r)
        w[r * cols + i] = 0;
    }
    importance[i] = float(h[i * cols + i]);
    h[i * cols + i] += options.damp * meanDiag;
  }
  // Static groups: parameters per (row, group) from the weights.
  std::vector<float> gw(g), gimp(g);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < groups; ++b) {
      int64_t n = std::min(g, cols - b * g);
      for (int64_t i = 0; i < g; ++i) {
        gw[i] = i < n ? w[r * cols + b * g + i] : 0.0f;
        gimp[i] = i < n ? importance[b * g + i] : 0.0f;
      }
      quantizer.fit(r, b, gw.data(), gimp.data(), n);
    }
  // Column order and the permuted Hessian.
  std::vector<int64_t> perm(cols);
  for (int64_t i = 0; i < cols; ++i)
    perm[i] = i;
  if (options.actOrder)
    // Ties keep column order (std::sort with the index as tie-break: libstdc++'s
    // stable_sort uses the deprecated get_temporary_buffer).
    std::sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) {
      double ha = h[a * cols + a], hb = h[b * cols + b];
      return ha != hb ? ha > hb : a < b;
    });
  std::vector<double> hp(cols * cols);
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j)
      hp[i * cols + j] = h[perm[i] * cols + perm[j]];
  if (!inverseCholeskyUpper(hp, cols))
    return "the damped Hessian is not positive definite";
  // Quantize column by column, spreading each error forward.
  std::vector<double> err(rows);
  for (int64_t i = 0; i < cols; ++i) {
    int64_t c = perm[i];
    double uii = hp[i * cols + i];
    for (int64_t r = 0; r < rows; ++r) {
      float q = quantizer.round(r, c, w[r * cols + c]);
      err[r] = (double(w[r * cols + c]) - q) / uii;
    }
    for (int64_t j = i + 1; j < cols; ++j) {
      double uij = hp[i * cols + j];
      if (uij == 0)
        continue;
      int64_t cj = perm[j];
      for (int64_t r = 0; r < rows; ++r)
        w[r * cols + cj] -= float(err[r] * uij);
    }
  }
  return {};
}

} // namespace qc::formats
