//===- QuantizeParams.h - Shared by qc-quantize, qc-ternary-encode -*- C++ -*-===//
#ifndef QC_DIALECT_QC_TRANSFORMS_QUANTIZEPARAMS_H
#define QC_DIALECT_QC_TRANSFORMS_QUANTIZEPARAMS_H

#include "dialects/QC/Transforms/Statistics.h"
#include "qc/Analysis/Quantize.h"
#include "qc/Analysis/Sequential.h"

namespace mlir::qc {

/// Quantizes each (param, format) with `method`, writes every tensor of the
/// archive to `out` (default: the archive's name + ".q.safetensors"), makes
/// the params `!qc.qtensor`s and drops their qc.format / qc.importance /
/// qc.hessian attributes. With `sequential` (GPTQ block by block on the
/// calibration text `calibText`) the weights take their X^T X from it, not
/// from qc.hessian.
struct SequentialGPTQ {
  std::string text;
  ::qc::SequentialOptions options;
};
LogicalResult
quantizeParams(ModuleOp module,
               ArrayRef<std::pair<ParamOp, QuantFormatAttrInterface>> work,
               ::qc::QuantMethod method, const std::string &out,
               const SequentialGPTQ *sequential = nullptr);

} // namespace mlir::qc

#endif // QC_DIALECT_QC_TRANSFORMS_QUANTIZEPARAMS_H
