//===- ModelToIR.h - An imported model as a qc module -----------*- C++ -*-===//
#ifndef QC_IMPORT_MODELTOIR_H
#define QC_IMPORT_MODELTOIR_H

#include "qc/Model/Model.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace qc {

/// Builds `func.func @forward(tokens, pos, caches...) -> (logits, caches...)`
/// from the model's config, one qc.param per tensor (typed by how it is
/// stored), with the module attributes `qc.weights = weightsPath` and
/// `qc.model = {hyper-parameters}`.
mlir::OwningOpRef<mlir::ModuleOp> buildModule(mlir::MLIRContext &context,
                                              const model::Model &m,
                                              const std::string &weightsPath);

} // namespace qc

#endif // QC_IMPORT_MODELTOIR_H
