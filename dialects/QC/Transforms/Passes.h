//===- Passes.h - qc passes -------------------------------------*- C++ -*-===//
#ifndef QC_DIALECT_QC_TRANSFORMS_PASSES_H
#define QC_DIALECT_QC_TRANSFORMS_PASSES_H

#include "dialects/QC/IR/QCDialect.h"

#include "mlir/Pass/Pass.h"

namespace mlir::qc {

#define GEN_PASS_DECL
#include "dialects/QC/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialects/QC/Transforms/Passes.h.inc"

} // namespace mlir::qc

#endif // QC_DIALECT_QC_TRANSFORMS_PASSES_H
