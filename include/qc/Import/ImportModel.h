//===- ImportModel.h - quant-import's work, in-process ----------*- C++ -*-===//
//
// Plain C++ types only, for callers without MLIR headers (the Python
// package). The module itself is built by buildModule (ModelToIR.h).
//
//===----------------------------------------------------------------------===//
#ifndef QC_IMPORT_IMPORTMODEL_H
#define QC_IMPORT_IMPORTMODEL_H

#include "qc/Model/Model.h"

#include <string>

namespace qc {

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

#endif // QC_IMPORT_IMPORTMODEL_H
