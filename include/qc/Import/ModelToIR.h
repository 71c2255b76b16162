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

/// The archive beside a module: OUT.mlir -> OUT.safetensors.
std::string defaultWeightsPath(const std::string &mlirPath);

/// quant-import's work: reads `modelPath` (`tokenizerPath`: a llama2.c
/// tokenizer.bin), writes its weights tensor by tensor to `weightsPath`
/// (empty: defaultWeightsPath) and the module naming
/// them to `mlirPath` ("-": stdout), each complete or not at all. Returns
/// the model read (its weights mapped); throws model::FormatError.
model::Model importModel(const std::string &modelPath,
                         const std::string &tokenizerPath,
                         const std::string &mlirPath,
                         std::string weightsPath = "");

} // namespace qc

#endif // QC_IMPORT_MODELTOIR_H
