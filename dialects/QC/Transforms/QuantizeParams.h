//===- QuantizeParams.h - Shared by qc-quantize, qc-ternary-encode -*- C++ -*-===//
#ifndef QC_DIALECT_QC_TRANSFORMS_QUANTIZEPARAMS_H
#define QC_DIALECT_QC_TRANSFORMS_QUANTIZEPARAMS_H

#include "dialects/QC/Transforms/Statistics.h"
#include "qc/Analysis/Quantize.h"

namespace mlir::qc {

/// Quantizes each (param, format) with `method`, writes every tensor of the
/// archive to `out` (default: the archive's name + ".q.safetensors"), makes
/// the params `!qc.qtensor`s and drops their qc.format / qc.importance /
/// qc.hessian attributes.
LogicalResult
quantizeParams(ModuleOp module,
               ArrayRef<std::pair<ParamOp, QuantFormatAttrInterface>> work,
               ::qc::QuantMethod method, const std::string &out);

} // namespace mlir::qc

#endif // QC_DIALECT_QC_TRANSFORMS_QUANTIZEPARAMS_H
