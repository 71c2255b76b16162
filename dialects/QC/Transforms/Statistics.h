//===- Statistics.h - Reading the statistics the IR references --*- C++ -*-===//
#ifndef QC_DIALECT_QC_TRANSFORMS_STATISTICS_H
#define QC_DIALECT_QC_TRANSFORMS_STATISTICS_H

#include "dialects/QC/Transforms/WeightArchive.h"
#include "qc/Analysis/Importance.h"

#include <map>

namespace mlir::qc {

/// Loads the files `#qc.stats` attributes name, each once per pass run.
class StatisticsCache {
public:
  explicit StatisticsCache(ModuleOp module) : module(module) {}

  /// The importance vector of the param's `qc.importance`, empty if none.
  FailureOr<std::vector<float>> importance(ParamOp param);
  /// X^T X of the param's `qc.hessian`, empty if none.
  FailureOr<std::vector<double>> hessian(ParamOp param);

private:
  FailureOr<const ::qc::InputStats *> lookup(ParamOp param, StringRef attr,
                                             bool xtx);
  ModuleOp module;
  std::map<std::string, ::qc::ImportanceStats> files;
};

} // namespace mlir::qc

#endif // QC_DIALECT_QC_TRANSFORMS_STATISTICS_H
