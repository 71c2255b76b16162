//===- GPTQ.cpp - GPTQ error feedback on LAPACK/BLAS ----------------------===//
#include "qc/Analysis/GPTQ.h"
#include "qc/Support/Parallel.h"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>

namespace qc {

GPTQSolver::GPTQSolver(const double *hessian, int64_t cols,
                       const GPTQOptions &options)
    : n(cols), options(options) {
  factor(hessian);
}

GPTQSolver::GPTQSolver(const float *hessian, int64_t cols,
                       const GPTQOptions &options)
    : n(cols), options(options) {
  factor(hessian);
}

template <typename T> void GPTQSolver::factor(const T *h) {
  diag.resize(n);
  dead.assign(n, false);
  double meanDiag = 0;
  for (int64_t i = 0; i < n; ++i) {
    diag[i] = float(h[i * n + i]);
    meanDiag += double(h[i * n + i]);
  }
  meanDiag /= double(n);
  if (!(meanDiag > 0)) {
    why = "the Hessian (X^T X) is zero: no calibration data reached this "
          "layer";
    return;
  }
  perm.resize(n);
  for (int64_t i = 0; i < n; ++i)
    perm[i] = i;
  if (options.actOrder)
    // Ties keep column order (std::sort with the index as tie-break:
    // libstdc++'s stable_sort uses the deprecated get_temporary_buffer).
    std::sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) {
      return diag[a] != diag[b] ? diag[a] > diag[b] : a < b;
    });
  // The damped Hessian in column order, indices reversed (r = n-1-i); a
  // dead input (never active) gets a unit diagonal and no coupling, and
  // its weights count as zero.
  std::vector<float> hr(size_t(n * n));
  for (int64_t i = 0; i < n; ++i)
    dead[i] = h[i * n + i] == 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      hr[(n - 1 - i) * n + (n - 1 - j)] = float(h[perm[i] * n + perm[j]]);
  for (int64_t i = 0; i < n; ++i) {
    float &d = hr[(n - 1 - i) * n + (n - 1 - i)];
    d = float((dead[perm[i]] ? 1.0 : double(d)) + options.damp * meanDiag);
  }
  // With the reversal P, P H P = L L^T gives H = R R^T for the upper
  // R = P L P, so H^-1 = U^T U with U = R^-1 = P L^-1 P upper: one
  // Cholesky and one triangular inverse. H is symmetric, so the row-major
  // buffer is read as column-major as it is. Single precision, as the
  // paper's implementation: the damping keeps H well conditioned.
  if (LAPACKE_spotrf(LAPACK_COL_MAJOR, 'L', n, hr.data(), n) != 0) {
    why = "the damped Hessian is not positive definite";
    return;
  }
  if (LAPACKE_strtri(LAPACK_COL_MAJOR, 'L', 'N', n, hr.data(), n) != 0) {
    why = "the Cholesky factor of the damped Hessian is singular";
    return;
  }
  // U[i][j] = L^-1[n-1-i][n-1-j], column-major element (r, c) at c*n + r.
  upper.assign(size_t(n * n), 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j)
      upper[i * n + j] = hr[(n - 1 - j) * n + (n - 1 - i)];
}

std::string GPTQSolver::quantize(const formats::Codec &codec,
                                 const float *weights, int64_t rows,
                                 uint8_t *dst) const {
  if (!why.empty())
    return why;
  formats::GroupQuantizer q;
  std::string err = codec.gptqQuantizer(weights, rows, n, dst, q);
  if (!err.empty())
    return err;
  int64_t g = q.group, groups = (n + g - 1) / g;
  // Rows are independent given U: they go in chunks of about 16 MiB of
  // working copy, so a 128k-row head costs no second copy of itself.
  int64_t chunk = std::max<int64_t>(64, (int64_t(4) << 20) / n);
  int64_t batch = std::max<int64_t>(1, options.batch);
  std::vector<float> w, errors;
  for (int64_t c0 = 0; c0 < rows; c0 += chunk) {
    int64_t count = std::min(chunk, rows - c0);
    const float *src = weights + c0 * n;
    // W in column order; a dead input's weights are zero.
    w.resize(size_t(count * n));
    parallelRanges(count, 64, [&](int64_t r0, int64_t r1) {
      std::vector<float> gw(g), gimp(g);
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t i = 0; i < n; ++i)
          w[r * n + i] = dead[perm[i]] ? 0.0f : src[r * n + perm[i]];
        // Static groups: parameters per (row, group) from the weights.
        for (int64_t b = 0; b < groups; ++b) {
          int64_t valid = std::min(g, n - b * g);
          for (int64_t i = 0; i < g; ++i) {
            int64_t c = b * g + i;
            gw[i] = i < valid && !dead[c] ? src[r * n + c] : 0.0f;
            gimp[i] = i < valid ? diag[c] : 0.0f;
          }
          q.fit(c0 + r, b, gw.data(), gimp.data(), valid);
        }
      }
    });
    // Lazy batches: within one, each row's errors update only the batch;
    // then one product carries the batch's errors to every later column.
    for (int64_t i1 = 0; i1 < n; i1 += batch) {
      int64_t b = std::min(batch, n - i1);
      errors.assign(size_t(count * b), 0.0f);
      parallelRanges(count, 64, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          float *wr = &w[r * n + i1], *er = &errors[r * b];
          for (int64_t i = 0; i < b; ++i) {
            const float *u = &upper[(i1 + i) * n + i1];
            float value = q.round(c0 + r, perm[i1 + i], wr[i]);
            float e = (wr[i] - value) / u[i];
            er[i] = e;
            for (int64_t j = i + 1; j < b; ++j)
              wr[j] -= e * u[j];
          }
        }
      });
      int64_t rest = n - i1 - b;
      if (rest > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(count),
                    int(rest), int(b), -1.0f, errors.data(), int(b),
                    &upper[i1 * n + i1 + b], int(n), 1.0f, &w[i1 + b],
                    int(n));
    }
  }
  q.finish();
  return {};
}

std::string quantizeGPTQ(const formats::Codec &codec, const float *weights,
                         int64_t rows, int64_t cols, const double *hessian,
                         const GPTQOptions &options, uint8_t *dst) {
  GPTQSolver solver(hessian, cols, options);
  return solver.quantize(codec, weights, rows, dst);
}

} // namespace qc
