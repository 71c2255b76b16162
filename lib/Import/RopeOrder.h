//===- RopeOrder.h - Query/key rows between rotary conventions --*- C++ -*-===//
#ifndef QC_LIB_IMPORT_ROPEORDER_H
#define QC_LIB_IMPORT_ROPEORDER_H

#include "qc/Model/Model.h"

namespace qc::model {

/// Permutes Q/K rows from Hugging Face's rotate-half layout to GGUF's
/// interleaved one (as llama.cpp's converter does), so one RoPE serves both
/// and the "llama" architecture means one convention everywhere. Rows move
/// as bytes in their stored type (BF16 stays BF16).
void permuteForRope(Tensor &t, int64_t heads);

} // namespace qc::model

#endif // QC_LIB_IMPORT_ROPEORDER_H
