//===- WeightArchive.h - Passes' access to the weights archive --*- C++ -*-===//
//
// The module's `qc.weights` attribute names the archive, relative to the
// directory of the .mlir file the module was read from (its location).
//
//===----------------------------------------------------------------------===//
#ifndef QC_DIALECT_QC_TRANSFORMS_WEIGHTARCHIVE_H
#define QC_DIALECT_QC_TRANSFORMS_WEIGHTARCHIVE_H

#include "dialects/QC/IR/QCDialect.h"
#include "qc/Model/Model.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::qc {

/// The archive path as a file path (resolved against the module's file).
FailureOr<std::string> resolveWeightsPath(ModuleOp module);
/// A file the IR names (archive, statistics) as a path to open: relative
/// names are relative to the module's file.
std::string resolveAgainstModule(ModuleOp module, const std::string &ref);
/// A path to store in `qc.weights` for `path` (relative to the module's
/// directory when it lies inside it).
std::string relativeToModule(ModuleOp module, const std::string &path);
/// Maps the archive (tensors view the file); emits the reader's error on the module on failure.
FailureOr<::qc::model::Model> loadWeights(ModuleOp module);

/// The bytes of a file a pass option names (`what`: "calibration text",
/// "recipe", ...); emits "cannot open <what> '<path>'" on the module.
FailureOr<std::string> readOptionFile(ModuleOp module, StringRef what,
                                      const std::string &path);

/// qc.param ops whose value is a weight matrix of qc.linear, qc.logits or
/// qc.embedding (in program order, each once).
SmallVector<ParamOp> matrixParams(ModuleOp module);

/// Points `qc.weights` at the archive `path` (written by an ArchiveWriter).
void pointWeightsAt(ModuleOp module, const std::string &path);

} // namespace mlir::qc

#endif // QC_DIALECT_QC_TRANSFORMS_WEIGHTARCHIVE_H
