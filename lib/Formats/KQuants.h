//===- KQuants.h - llama.cpp's k-quant block quantizers ---------*- C++ -*-===//
#ifndef QC_LIB_FORMATS_KQUANTS_H
#define QC_LIB_FORMATS_KQUANTS_H

#include <cstdint>

namespace qc::formats {

/// One 256-weight block each, bytes as ggml's block_qN_K.
void quantizeQ3KBlock(const float *x, uint8_t *block);
void quantizeQ4KBlock(const float *x, uint8_t *block);
void quantizeQ5KBlock(const float *x, uint8_t *block);
void quantizeQ6KBlock(const float *x, uint8_t *block);
/// Q2_K looks at all `n` weights first (ik_llama.cpp's ternary-net check).
void quantizeQ2KRow(const float *x, int64_t n, uint8_t *out);

} // namespace qc::formats

#endif // QC_LIB_FORMATS_KQUANTS_H
