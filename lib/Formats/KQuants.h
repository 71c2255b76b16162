//===- KQuants.h - llama.cpp's k-quant block quantizers ---------*- C++ -*-===//
#ifndef QC_LIB_FORMATS_KQUANTS_H
#define QC_LIB_FORMATS_KQUANTS_H

#include <cstdint>

namespace qc::formats {

/// The element of largest magnitude (sign kept, the first of equals) and
/// that magnitude, as ggml's quantizers pick it.
float signedExtreme(const float *x, int n, float &amax);

/// The 6-bit scale and min of sub-block j in Q4_K/Q5_K's 12 scale bytes.
void scaleMinK4(int j, const uint8_t *q, uint8_t &d, uint8_t &m);

/// One 256-weight block each, bytes as ggml's block_qN_K.
void quantizeQ3KBlock(const float *x, uint8_t *block);
void quantizeQ4KBlock(const float *x, uint8_t *block);
void quantizeQ5KBlock(const float *x, uint8_t *block);
/// Q6_K with optional per-weight importance (llama.cpp's imatrix path).
void quantizeQ6KBlock(const float *x, uint8_t *block,
                      const float *importance = nullptr);
/// The non-linear codebook of IQ4_NL and IQ4_XS.
extern const int8_t kIQ4Values[16];

/// IQ4_NL (32 weights) and IQ4_XS (256 weights) blocks, importance
/// optional as in llama.cpp.
void quantizeIQ4NLBlock(const float *x, uint8_t *block,
                        const float *importance = nullptr);
void quantizeIQ4XSBlock(const float *x, uint8_t *block,
                        const float *importance = nullptr);

/// Signed codes in [-nmax, nmax) (stored + nmax) and their scale, fitted by
/// weighted least squares (weights `qw`, or x^2 when null): llama.cpp's
/// make_qx_quants.
float makeQxQuants(int n, int nmax, const float *x, int8_t *L,
                   const float *qw);
/// Q2_K looks at all `n` weights first (ik_llama.cpp's ternary-net check).
void quantizeQ2KRow(const float *x, int64_t n, uint8_t *out);

} // namespace qc::formats

#endif // QC_LIB_FORMATS_KQUANTS_H
