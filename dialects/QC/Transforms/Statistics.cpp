//===- Statistics.cpp -----------------------------------------------------===//
#include "dialects/QC/Transforms/Statistics.h"

namespace mlir::qc {

FailureOr<const ::qc::InputStats *>
StatisticsCache::lookup(ParamOp param, StringRef attrName, bool xtx) {
  auto ref = param->getAttrOfType<StatsAttr>(attrName);
  if (!ref)
    return static_cast<const ::qc::InputStats *>(nullptr);
  std::string path = resolveAgainstModule(module, ref.getFile().str());
  auto it = files.find(path);
  if (it == files.end()) {
    try {
      ::qc::ImportanceStats stats;
      if (xtx)
        ::qc::readXtX(stats, path);
      else
        stats = ::qc::readImatrix(path);
      it = files.emplace(path, std::move(stats)).first;
    } catch (const std::exception &e) {
      return param.emitError("cannot read statistics: ") << e.what();
    }
  }
  auto entry = it->second.weights.find(ref.getKey().str());
  if (entry == it->second.weights.end())
    return param.emitError("statistics file '")
           << path << "' has no entry '" << ref.getKey() << "'";
  return &entry->second;
}

FailureOr<std::vector<float>> StatisticsCache::importance(ParamOp param) {
  auto s = lookup(param, "qc.importance", false);
  if (failed(s))
    return failure();
  return *s ? (*s)->importance() : std::vector<float>();
}

FailureOr<std::vector<double>> StatisticsCache::hessian(ParamOp param) {
  auto s = lookup(param, "qc.hessian", true);
  if (failed(s))
    return failure();
  return *s ? (*s)->xtx : std::vector<double>();
}

} // namespace mlir::qc
